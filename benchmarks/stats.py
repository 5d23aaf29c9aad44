"""The few statistics every benchmark table shows, computed one way."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def p95(values: Sequence[float]) -> float:
    """95th percentile (inclusive interpolation); the value itself for a single sample."""
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) >= 2 else values[0]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p95": p95(values), "n": len(values)}


def ratio(value: float, reference: float, floor: float = 0.0) -> str:
    """`value / reference` as "0.25x"; "-" when the reference is at or below `floor` (nothing to compare with:
    a ratio to a figure within the clock's own noise would only look precise)."""
    return f"{value / reference:.2f}x" if reference > floor else "-"
