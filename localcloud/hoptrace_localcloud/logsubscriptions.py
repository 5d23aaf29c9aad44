"""The log router: log subscription filters buffer matching lines and deliver them in batches, shaped as
CloudWatch Logs subscription events, to their destination functions (asynchronously, as on AWS)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .events.cloudwatchlogs import subscription_payload
from .logstore import LogEvent

_MAX_BATCH_EVENTS = 1000  # keep one payload well under Lambda's 256 KiB async event limit


@dataclass
class Subscription:
    name: str
    group: str
    matches: Callable[[str], bool]
    deliver: Callable[[dict[str, Any]], None]
    destination_group: str  # the destination's own log group, never routed back to it


class LogRouter:
    """Listens to the log store; a flusher thread sends each (filter, group, stream) batch every interval."""

    def __init__(self, owner: str, interval: float) -> None:
        self._owner = owner
        self._interval = interval
        self._subscriptions: list[Subscription] = []
        self._buffers: dict[tuple[int, str], list[LogEvent]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-router", daemon=True)

    def add(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    def __call__(self, event: LogEvent) -> None:
        for index, sub in enumerate(self._subscriptions):
            if sub.group == event.group and event.group != sub.destination_group and sub.matches(event.message):
                with self._lock:
                    self._buffers.setdefault((index, event.stream), []).append(event)

    def start(self) -> None:
        if self._subscriptions:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            buffers, self._buffers = self._buffers, {}
        for (index, stream), events in buffers.items():
            sub = self._subscriptions[index]
            for start in range(0, len(events), _MAX_BATCH_EVENTS):
                batch = events[start:start + _MAX_BATCH_EVENTS]
                sub.deliver(subscription_payload(self._owner, sub.group, stream, [sub.name], batch))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
