"""Retriers: which one applies to an error, how long to wait before the next attempt."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from . import errors


@dataclass
class Retrier:
    error_equals: list[str]
    interval: float = 1.0
    max_attempts: int = 3
    backoff: float = 2.0
    max_delay: float | None = None
    full_jitter: bool = False
    attempts: int = field(default=0)

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Retrier:
        return cls(list(spec.get("ErrorEquals") or []), float(spec.get("IntervalSeconds", 1)),
                   int(spec.get("MaxAttempts", 3)), float(spec.get("BackoffRate", 2.0)),
                   float(spec["MaxDelaySeconds"]) if "MaxDelaySeconds" in spec else None,
                   spec.get("JitterStrategy") == "FULL")

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (0-based): interval * backoff^attempt, capped, then jittered."""
        delay = self.interval * self.backoff ** attempt
        if self.max_delay is not None:
            delay = min(delay, self.max_delay)
        return random.uniform(0, delay) if self.full_jitter else delay


class RetryPolicy:
    """The Retry field of one state entry: attempt counts are kept per retrier, as AWS does."""

    def __init__(self, specs: list[dict[str, Any]] | None) -> None:
        self.retriers = [Retrier.parse(spec) for spec in specs or []]

    def next_delay(self, error: str) -> float | None:
        """The wait before retrying `error`, or None when the first matching retrier is exhausted (or none
        matches) — then Catch decides."""
        for retrier in self.retriers:
            if errors.matches(error, retrier.error_equals):
                if retrier.attempts >= retrier.max_attempts:
                    return None
                delay = retrier.delay(retrier.attempts)
                retrier.attempts += 1
                return delay
        return None


def catcher_for(catchers: list[dict[str, Any]] | None, error: str) -> dict[str, Any] | None:
    for catcher in catchers or []:
        if errors.matches(error, catcher.get("ErrorEquals") or []):
            return catcher
    return None
