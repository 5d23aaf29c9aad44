"""The local cloud's SQS pollers against a real moto server: several per event source mapping while a backlog
lasts (bounded as Lambda bounds them), back to one long poll when idle, FIFO groups never in two batches at
once and always in order, and no polling round trips beyond the long polls."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hoptrace_localcloud.sqspolling import QueuePoller


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    from hoptrace_localcloud.motoserver import MotoServer, client_factory

    server = MotoServer()
    try:
        yield client_factory(server.start(), "us-east-1")("sqs")
    finally:
        server.stop()


class Counting:
    """The SQS client with its receive calls counted (the round trips a poller costs moto)."""

    def __init__(self, sqs: Any) -> None:
        self._sqs, self.receives = sqs, 0

    def receive_message(self, **kwargs: Any) -> Any:
        self.receives += 1
        return self._sqs.receive_message(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)


class Handler:
    """Works each batch for `seconds`, noting how many batches ran at once and what each held."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.lock, self.running, self.peak = seconds, threading.Lock(), 0, 0
        self.batches: list[list[str]] = []
        self.in_flight_groups: set[str] = set()
        self.overlaps: list[str] = []

    def __call__(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        groups = {m.get("Attributes", {}).get("MessageGroupId") for m in messages} - {None}
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.overlaps += sorted(groups & self.in_flight_groups)
            self.in_flight_groups |= groups
            self.batches.append([m["Body"] for m in messages])
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.in_flight_groups -= groups
        return messages

    def bodies(self) -> list[str]:
        with self.lock:
            return [body for batch in self.batches for body in batch]


def wait_until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def queue(sqs: Any, name: str, fifo: bool = False) -> str:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    return sqs.create_queue(QueueName=name + (".fifo" if fifo else ""), Attributes=attributes)["QueueUrl"]


def send(sqs: Any, url: str, bodies: list[str], group: str | None = None) -> None:
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b, **({"MessageGroupId": group} if group else {})}
                   for i, b in enumerate(bodies[start:start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def test_a_backlog_is_worked_by_several_pollers_up_to_the_bound_then_one_remains(sqs: Any) -> None:
    # GIVEN 60 messages waiting and a mapping allowed three pollers (its ScalingConfig.MaximumConcurrency)
    url = queue(sqs, "backlog")
    send(sqs, url, [f"m{i}" for i in range(60)])
    handler = Handler(0.3)
    poller = QueuePoller(sqs, url, handler, "backlog", batch_size=5, wait_seconds=1, max_pollers=3)
    poller.start()
    try:
        # THEN every message is handled once, by up to three batches at a time, never more
        wait_until(lambda: len(handler.bodies()) >= 60)
        assert sorted(handler.bodies()) == sorted(f"m{i}" for i in range(60))
        assert handler.peak == 3 and poller.peak_pollers == 3
        # AND once the queue is empty the pollers retire down to one long poll
        wait_until(lambda: poller.pollers == 1)
    finally:
        poller.signal_stop()
        poller.join(5)


def test_fifo_groups_stay_in_order_and_never_in_two_batches_at_once(sqs: Any) -> None:
    # GIVEN three message groups of eight messages each in a FIFO queue, and four pollers allowed
    url = queue(sqs, "orders", fifo=True)
    for group in ("a", "b", "c"):
        send(sqs, url, [f"{group}{i}" for i in range(8)], group=group)
    handler = Handler(0.2)
    poller = QueuePoller(sqs, url, handler, "fifo", batch_size=2, wait_seconds=1, max_pollers=4)
    poller.start()
    try:
        wait_until(lambda: len(handler.bodies()) >= 24)
    finally:
        poller.signal_stop()
        poller.join(5)
    # THEN each group was handled in its order, one batch of it at a time, while groups ran side by side
    for group in ("a", "b", "c"):
        assert [b for b in handler.bodies() if b[0] == group] == [f"{group}{i}" for i in range(8)]
    assert handler.overlaps == []
    assert handler.peak > 1


def test_an_idle_queue_costs_one_long_poll_at_a_time(sqs: Any) -> None:
    # GIVEN an empty queue polled with 1 s long polls by a mapping allowed five pollers
    counting = Counting(sqs)
    url = queue(sqs, "idle")
    poller = QueuePoller(counting, url, Handler(0), "idle", wait_seconds=1, max_pollers=5)
    poller.start()
    try:
        started = time.monotonic()
        wait_until(lambda: time.monotonic() - started >= 3.0, timeout=10)
        # THEN it stays one poller, asking about once a second, not in a busy loop
        assert poller.pollers == 1 and counting.receives <= 5, counting.receives
    finally:
        poller.signal_stop()
        poller.join(5)


def test_a_batching_window_waits_without_asking_again_and_again(sqs: Any) -> None:
    # GIVEN a 1.5 s batching window and a lone message: the window's last half second is slept, not polled
    counting = Counting(sqs)
    url = queue(sqs, "window")
    handler = Handler(0)
    poller = QueuePoller(counting, url, handler, "window", batch_size=10, batching_window=1.5, wait_seconds=1)
    send(sqs, url, ["only"])
    poller.start()
    try:
        wait_until(lambda: handler.bodies() == ["only"])
        assert counting.receives <= 4, counting.receives
    finally:
        poller.signal_stop()
        poller.join(5)


class Failing(Handler):
    """Works each batch for `seconds`, then deletes every message but the ones whose body is `fail`."""

    def __call__(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        super().__call__(messages)
        return [m for m in messages if m["Body"] != "fail"]


def test_a_slow_batch_is_not_handed_to_a_second_poller_and_a_failed_message_comes_back_soon(sqs: Any) -> None:
    # GIVEN a queue with a 30 s visibility timeout, a 1 s retry visibility (the tests' and the demo's setting),
    # and batches that take longer than that 1 s
    url = sqs.create_queue(QueueName="slow", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    send(sqs, url, ["ok1", "ok2", "ok3", "fail"])
    handler = Failing(2.5)
    poller = QueuePoller(sqs, url, handler, "slow", batch_size=1, wait_seconds=1, max_pollers=4, retry_visibility=1)
    poller.start()
    try:
        # THEN the failed message comes back after about a second, long before the queue's 30 s
        wait_until(lambda: handler.bodies().count("fail") >= 2)
    finally:
        poller.signal_stop()
        poller.join(10)
    # AND a message that succeeded was handled once: in flight, it kept the queue's own visibility
    assert sorted(b for b in handler.bodies() if b != "fail") == ["ok1", "ok2", "ok3"]
