"""The local CloudWatch Logs: every function's log lines by group and stream, with listeners for the
subscription router and the live log of `hoptrace local`."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch log event; `id` has the 56-digit shape CloudWatch gives subscription consumers."""

    group: str
    stream: str
    timestamp: int
    message: str
    id: str


Listener = Callable[[LogEvent], None]


class LogStore:
    """Append-only, thread-safe, in memory; waiters wake on each new line instead of polling."""

    def __init__(self, max_events_per_group: int = 100_000) -> None:
        self._groups: dict[str, list[LogEvent]] = {}
        self._listeners: list[Listener] = []
        self._changed = threading.Condition()
        self._sequence = itertools.count(1)
        self._max = max_events_per_group

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def append(self, group: str, stream: str, message: str, timestamp: int | None = None) -> LogEvent:
        timestamp = int(time.time() * 1000) if timestamp is None else timestamp
        event = LogEvent(group, stream, timestamp, message, f"{timestamp:020d}{next(self._sequence):036d}")
        with self._changed:
            events = self._groups.setdefault(group, [])
            events.append(event)
            if len(events) > self._max:
                del events[: len(events) - self._max]
            self._changed.notify_all()
        for listener in self._listeners:
            listener(event)
        return event

    def events(self, group: str) -> list[LogEvent]:
        with self._changed:
            return list(self._groups.get(group, ()))

    def messages(self, group: str) -> list[str]:
        return [event.message for event in self.events(group)]

    def groups(self) -> list[str]:
        with self._changed:
            return list(self._groups)

    def wait_for(self, group: str, predicate: Callable[[LogEvent], bool], timeout: float = 10.0) -> LogEvent:
        """Block until a line of `group` satisfies `predicate`; raise TimeoutError naming what was awaited."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                events = self._groups.get(group, [])
                for event in events[seen:]:
                    if predicate(event):
                        return event
                seen = len(events)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching line in log group {group} within {timeout} s "
                                       f"({seen} lines seen)")
                self._changed.wait(remaining)
