"""An execution's history, event by event, in the shape `GetExecutionHistory` returns on AWS: ids from 1,
`previousEventId`, a millisecond timestamp, and `<type>EventDetails` with JSON-string inputs and outputs."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

MAX_PAGE = 1000


def _details_key(event_type: str) -> str:
    """`TaskStateEntered` → `stateEnteredEventDetails`, `LambdaFunctionFailed` → `lambdaFunctionFailedEventDetails`."""
    for suffix in ("StateEntered", "StateExited"):
        if event_type.endswith(suffix):
            return "state" + suffix[5:] + "EventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def now_ms() -> float:
    return round(time.time(), 3)


def iso(ts: float) -> str:
    """The context object's time format (`$$.State.EnteredTime`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{round(ts % 1 * 1000) % 1000:03d}Z"


def as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


@dataclass
class History:
    events: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, event_type: str, previous: int, details: dict[str, Any] | None = None) -> tuple[int, float]:
        """Append one event; returns its id and timestamp (epoch seconds, millisecond precision)."""
        with self._lock:
            event_id = len(self.events) + 1
            ts = now_ms()
            event: dict[str, Any] = {"timestamp": ts, "type": event_type, "id": event_id, "previousEventId": previous}
            if details is not None:
                for key in ("input", "output"):
                    if key in details:
                        details[f"{key}Details"] = {"truncated": False}
                event[_details_key(event_type)] = details
            self.events.append(event)
            return event_id, ts

    def page(self, max_results: int = MAX_PAGE, token: str | None = None, reverse: bool = False,
             include_data: bool = True) -> tuple[list[dict[str, Any]], str | None]:
        with self._lock:
            events = list(reversed(self.events)) if reverse else list(self.events)
        start = int(token) if token and token.isdigit() else 0
        size = max(1, min(int(max_results or MAX_PAGE), MAX_PAGE))
        chunk = events[start:start + size]
        if not include_data:
            chunk = [_without_data(e) for e in chunk]
        return chunk, (str(start + size) if start + size < len(events) else None)


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    out = dict(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in ("input", "output")}
    return out
