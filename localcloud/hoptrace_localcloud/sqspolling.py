"""A long-polling reader of one moto queue, shared by event source mappings and internal deliveries.

Long polls (not sleeps) keep an idle cloud quiet on a small machine; each batch is handed to a callback
that returns the messages to delete.

An event source mapping polls with several pollers, as Lambda does (it starts five per SQS
mapping and adds more while messages are waiting): here one poller to begin with, one more
each time a poller comes back with a batch, up to `max_pollers` (the mapping's
`ScalingConfig.MaximumConcurrency`, else five, never past the function's concurrency), and
one fewer each time a poller's long poll comes back empty. So a backlog is worked by several
invocations at once, and an idle queue costs one long poll at a time.

Receives are taken one poller at a time (a lock per queue), handling runs in parallel. That
keeps moto to one outstanding long poll per queue instead of one per poller (moto answers
every AWS call of the shop on one core), and it keeps FIFO queues exact: moto holds back the
messages of a group while an earlier message of the group is in flight, which needs the
receives that hand them out to be one after another, so a group is never in two batches at once.

`retry_visibility` (the local cloud's `sqs_visibility_timeout`) is how soon a message that was not
deleted comes back: it is set on those messages after their batch, not on the receive. A message in
flight keeps the queue's own visibility timeout, which AWS requires to be at least the function's
timeout; a short one on the receive would hand a slow batch to a second poller while the first still
works on it, and a message that succeeded would reach the DLQ.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("hoptrace.localcloud")

Handle = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # messages -> messages to delete
DEFAULT_MAPPING_POLLERS = 5  # Lambda's initial pollers per SQS event source mapping


class QueuePoller:
    def __init__(self, sqs: Any, queue_url: str, handle: Handle, name: str, *, batch_size: int = 10,
                 batching_window: float = 0.0, wait_seconds: int = 2, retry_visibility: int | None = None,
                 max_pollers: int = 1) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._handle = handle
        self._name = name
        self._batch_size = max(1, batch_size)
        self._window = batching_window
        self._wait = max(1, min(20, wait_seconds))
        self._retry_visibility = retry_visibility
        self._max = max(1, max_pollers)
        self._stop = threading.Event()
        self._receiving = threading.Lock()  # one receive of this queue at a time (see the module docstring)
        self._count_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._running = 0
        self.peak_pollers = 0  # the most pollers at once, for tests and `hoptrace local`'s debugging

    @property
    def pollers(self) -> int:
        return self._running

    def start(self) -> None:
        self._grow()

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        for thread in list(self._threads):
            thread.join(timeout)

    def _grow(self) -> None:
        with self._count_lock:
            if self._running >= self._max or self._stop.is_set():
                return
            self._running += 1
            self.peak_pollers = max(self.peak_pollers, self._running)
            thread = threading.Thread(target=self._loop, name=f"poll-{self._name}-{len(self._threads) + 1}",
                                      daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _retire(self) -> bool:
        """After an empty long poll: this poller stops if it is not the last one."""
        with self._count_lock:
            if self._running > 1:
                self._running -= 1
                return True
            return False

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "QueueUrl": self._url, "MaxNumberOfMessages": min(10, count), "WaitTimeSeconds": wait,
            "MessageAttributeNames": ["All"], "MessageSystemAttributeNames": ["All"],
        }
        return self._sqs.receive_message(**kwargs).get("Messages", [])

    def _batch(self) -> list[dict[str, Any]]:
        """Fill a batch up to batch_size, waiting at most the batching window once the first message is in.

        SQS long polls in whole seconds: the last part of a window under one second is slept, then
        asked for once, rather than asked for again and again with no wait."""
        with self._receiving:
            messages = self._receive(self._batch_size, self._wait)
            if not messages:
                return messages
            deadline = time.monotonic() + self._window
            while len(messages) < self._batch_size and not self._stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if remaining < 1:
                    self._stop.wait(remaining)
                    messages += self._receive(self._batch_size - len(messages), 0)
                    break
                messages += self._receive(self._batch_size - len(messages), 1)
            return messages

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._batch()
            except Exception as exc:
                if self._stop.is_set():
                    return
                logger.warning("polling %s failed (%s); retrying in 1 s", self._url, exc)
                self._stop.wait(1)
                continue
            if self._stop.is_set():
                return
            if not messages:
                if self._retire():
                    return
                continue
            self._grow()  # messages were waiting: another poller takes the next batch while this one works
            try:
                done = self._handle(messages)
            except Exception:
                logger.exception("handling a batch from %s failed", self._url)
                done = []
            self._delete(done)
            self._retry_soon(messages, done)

    def _retry_soon(self, messages: list[dict[str, Any]], done: list[dict[str, Any]]) -> None:
        if self._retry_visibility is None or len(done) == len(messages):
            return
        deleted = {m["ReceiptHandle"] for m in done}
        kept = [m for m in messages if m["ReceiptHandle"] not in deleted]
        self._in_batches(self._sqs.change_message_visibility_batch, kept, "making failed messages visible again",
                         VisibilityTimeout=self._retry_visibility)

    def _delete(self, done: list[dict[str, Any]]) -> None:
        self._in_batches(self._sqs.delete_message_batch, done, "deleting")

    def _in_batches(self, call: Callable[..., Any], messages: list[dict[str, Any]], what: str,
                    **entry: Any) -> None:
        """One SQS batch call per ten messages (the API's limit), each entry naming its receipt handle."""
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], **entry}
                       for i, m in enumerate(messages[start:start + 10])]
            try:
                call(QueueUrl=self._url, Entries=entries)
            except Exception as exc:
                logger.warning("%s in %s failed: %s", what, self._url, exc)
