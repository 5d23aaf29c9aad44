"""What one rule concluded about one function (or queue) at one evaluation time.

A finding is what the state machine steps on, what a transition records and what a
notification says, so it carries the figures a reader needs to judge it without opening the
dashboard: the current value, the baseline it was compared with, the value at which it fires,
the counts behind them and a few example trace ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str  # a function name; for dlq_arrivals, a dead-letter queue name
    breached: bool
    summary: str  # one sentence: current vs baseline, with the counts behind both
    current: float | None = None
    baseline: float | None = None  # None when the baseline had too little traffic to judge
    threshold: float | None = None  # the value at which the rule fires now (None: it cannot fire)
    unit: str = ""  # "ratio" | "ms" | "messages" | "deaths" | "invocations"
    window_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    function: str | None = None  # the function to name and link (a DLQ's consumer, when known)
    traces_filter: dict[str, str] = field(default_factory=dict)  # Traces page filters: status, cold, min_ms
    examples: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["examples"] = list(self.examples)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["examples"] = tuple(known.get("examples", ()))
        return cls(**known)


def percent(value: float | None) -> str:
    """A rate for people: 0.4512 -> '45.1%'."""
    if value is None:
        return "n/a"
    return f"{value * 100:.1f}%"


def duration(seconds: float) -> str:
    """A window for people: 300 -> '5 min', 45 -> '45 s'."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
