"""A long-polling reader of one moto queue, shared by event source mappings and internal deliveries.

Long polls (not sleeps) keep an idle cloud quiet on a small machine; each batch is handed to a callback
that returns the messages to delete.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("hoptrace.localcloud")

Handle = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # messages -> messages to delete


class QueuePoller:
    def __init__(self, sqs: Any, queue_url: str, handle: Handle, name: str, *, batch_size: int = 10,
                 batching_window: float = 0.0, wait_seconds: int = 2, visibility_timeout: int | None = None) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._handle = handle
        self._batch_size = max(1, batch_size)
        self._window = batching_window
        self._wait = max(1, min(20, wait_seconds))
        self._visibility = visibility_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"poll-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "QueueUrl": self._url, "MaxNumberOfMessages": min(10, count), "WaitTimeSeconds": wait,
            "MessageAttributeNames": ["All"], "MessageSystemAttributeNames": ["All"],
        }
        if self._visibility is not None:
            kwargs["VisibilityTimeout"] = self._visibility
        return self._sqs.receive_message(**kwargs).get("Messages", [])

    def _batch(self) -> list[dict[str, Any]]:
        """Fill a batch up to batch_size, waiting at most the batching window once the first message is in."""
        messages = self._receive(self._batch_size, self._wait)
        if not messages:
            return messages
        deadline = time.monotonic() + self._window
        while len(messages) < self._batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            more = self._receive(self._batch_size - len(messages), 1 if remaining >= 1 else 0)
            messages += more
            if not more and remaining <= 0:
                break
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
            if not messages or self._stop.is_set():
                continue
            try:
                done = self._handle(messages)
            except Exception:
                logger.exception("handling a batch from %s failed", self._url)
                continue
            for start in range(0, len(done), 10):
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                           for i, m in enumerate(done[start:start + 10])]
                try:
                    self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)
                except Exception as exc:
                    logger.warning("deleting from %s failed: %s", self._url, exc)
