"""Per-minute rollups of invocation spans in the SQLite store, kept on write for whole-range questions.

`function_minutes` holds, per minute, function and duration bucket, how many invocation spans
(`rules.is_invocation_span`) started then, how many failed and how many were cold starts. A
batch adds one aggregated upsert per key (not one per span); a replaced span (pending → final,
a platform failure) takes its old contribution out and puts the new one in, so the rollup is
always the sum of the spans table. Durations are kept in logarithmic buckets 2 % wide, each with
the sum of its durations, and a percentile read from the rollup takes the mean duration of the
bucket it falls in: within 2 % of the exact one, and exact when the bucket's durations are equal
(a 60 s timeout, a lone invocation). Counts are exact, and a range that does not start or end on
a minute takes its partial minutes from the spans themselves.

The dashboard's charts ask the same per bucket of whole minutes. Reading 24 hours of a busy
store this way touches some 10^4 to 10^5 small rows instead of every invocation span of the range.
A store written before the rollup existed is filled from its spans once, when opened (`create`).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from typing import Any

from hoptrace_collector.store.model import FunctionStats

MINUTE_NS = 60 * 1_000_000_000
RATIO = 1.02
_LOG_RATIO = math.log(RATIO)
ZERO = -(2**31)  # the bucket of durations under 1 µs
_MIN_MS = 0.001

TABLE = """
CREATE TABLE IF NOT EXISTS function_minutes (
    minute_ns INTEGER NOT NULL, function TEXT NOT NULL, bucket INTEGER NOT NULL,
    invocations INTEGER NOT NULL, errors INTEGER NOT NULL, cold_starts INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,  -- the sum of the bucket's durations
    PRIMARY KEY (minute_ns, function, bucket)
) WITHOUT ROWID
"""

UPSERT = """
INSERT INTO function_minutes (minute_ns, function, bucket, invocations, errors, cold_starts, duration_ns)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (minute_ns, function, bucket) DO UPDATE SET invocations = invocations + excluded.invocations,
    errors = errors + excluded.errors, cold_starts = cold_starts + excluded.cold_starts,
    duration_ns = duration_ns + excluded.duration_ns
"""

# Spans columns as stored: start_ns, end_ns, status, cold_start, function (only invocation spans are passed).
_FROM_SPANS = f"""
INSERT INTO function_minutes (minute_ns, function, bucket, invocations, errors, cold_starts, duration_ns)
SELECT start_ns / {MINUTE_NS} * {MINUTE_NS}, function, hoptrace_duration_bucket(end_ns - start_ns), count(*),
       sum(status = 'error'), sum(cold_start), sum(end_ns - start_ns)
FROM spans INDEXED BY spans_invocations WHERE invocation = 1 AND start_ns >= ? AND start_ns < ? GROUP BY 1, 2, 3
ON CONFLICT (minute_ns, function, bucket) DO UPDATE SET invocations = invocations + excluded.invocations,
    errors = errors + excluded.errors, cold_starts = cold_starts + excluded.cold_starts,
    duration_ns = duration_ns + excluded.duration_ns
"""


def bucket(duration_ns: int) -> int:
    """The duration's bucket: b holds (RATIO^(b-1), RATIO^b] milliseconds."""
    ms = duration_ns / 1e6
    if ms < _MIN_MS:
        return ZERO
    return math.ceil(math.log(ms) / _LOG_RATIO - 1e-9)




def create(conn: sqlite3.Connection) -> None:
    """The table (inside the caller's open transaction), filled from the spans when it is new."""
    conn.create_function("hoptrace_duration_bucket", 1, bucket, deterministic=True)
    new = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'function_minutes'").fetchone() is None
    conn.execute(TABLE)
    if new:
        conn.execute(_FROM_SPANS, (0, 2**63 - 1))


class Delta:
    """What one batch changes in the rollup: per (minute, function, bucket), the counts to add (or take out)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[int, str, int], list[int]] = {}

    def add(self, start_ns: int, end_ns: int, function: str, error: bool, cold: bool, sign: int = 1) -> None:
        duration = end_ns - start_ns
        key = (start_ns // MINUTE_NS * MINUTE_NS, function, bucket(duration))
        row = self.counts.get(key)
        if row is None:
            self.counts[key] = [sign, sign * error, sign * cold, sign * duration]
        else:
            row[0] += sign
            row[1] += sign * error
            row[2] += sign * cold
            row[3] += sign * duration

    def write(self, conn: sqlite3.Connection) -> None:
        rows = [(*key, *counts) for key, counts in self.counts.items() if any(counts)]
        if rows:
            conn.executemany(UPSERT, rows)


def rebuild(conn: sqlite3.Connection, since_ns: int, until_ns: int) -> None:
    """Recount the rollup of [since, until) (whole minutes) from the spans: after retention cut a minute."""
    conn.execute("DELETE FROM function_minutes WHERE minute_ns >= ? AND minute_ns < ?", (since_ns, until_ns))
    conn.execute(_FROM_SPANS, (since_ns, until_ns))


def totals(conn: sqlite3.Connection, since_ns: int, until_ns: int, function: str | None,
           bucket_ns: int | None = None) -> list[FunctionStats]:
    """Per function over [since, until) (`bucket_ns` None), or per function and time bucket of `bucket_ns`
    (a whole number of minutes, buckets aligned as `rules.bucket_start` aligns them): exact counts,
    percentiles within 2 % (see the module docstring)."""
    counts = _counts(conn, since_ns, until_ns, function, bucket_ns)
    return [_stats(name, start, by_bucket) for (name, start), by_bucket in sorted(counts.items())]


def cold_vs_warm(conn: sqlite3.Connection, since_ns: int, until_ns: int,
                 function: str | None) -> list[tuple[str, str, int, float, float]]:
    """(function, "cold" | "warm", invocations, p50 ms, p95 ms) over [since, until): every invocation counted
    (exact), each duration bucket's cold starts apart from its warm starts, percentiles within 2 %."""
    out = []
    for (name, _start), by_bucket in sorted(_counts(conn, since_ns, until_ns, function, None).items()):
        for start, share in (("cold", lambda c: c[2]), ("warm", lambda c: c[0] - c[2])):
            # each part of a bucket at the bucket's mean duration: [count, -, -, count * mean]
            part = sorted((index, [n, 0, 0, n * c[3] / c[0]]) for index, c in by_bucket.items() if (n := share(c)))
            total = sum(c[0] for _, c in part)
            if total:
                out.append((name, start, total, _percentile(part, total, 0.5), _percentile(part, total, 0.95)))
    return out


def _counts(conn: sqlite3.Connection, since_ns: int, until_ns: int, function: str | None,
            bucket_ns: int | None) -> dict[tuple[str, int], dict[int, list[int]]]:
    """Per (function, time bucket), per duration bucket: [invocations, errors, cold starts, duration sum]."""
    if bucket_ns is not None and (bucket_ns <= 0 or bucket_ns % MINUTE_NS):
        raise ValueError(f"rollup buckets are whole minutes, got {bucket_ns} ns")
    first = -(-since_ns // MINUTE_NS) * MINUTE_NS  # the first whole minute
    last = until_ns // MINUTE_NS * MINUTE_NS  # the end of the last whole minute
    where = " AND function = ?" if function is not None else ""
    extra: tuple[Any, ...] = (function,) if function is not None else ()
    group = f"minute_ns / {bucket_ns} * {bucket_ns}" if bucket_ns else str(int(since_ns))
    counts: dict[tuple[str, int], dict[int, list[int]]] = {}
    if first < last:
        rows: Iterable[tuple[Any, ...]] = conn.execute(
            f"SELECT function, {group}, bucket, sum(invocations), sum(errors), sum(cold_starts), sum(duration_ns) "
            f"FROM function_minutes WHERE minute_ns >= ? AND minute_ns < ?{where} GROUP BY 1, 2, 3",
            (first, last, *extra))
        edges = [(since_ns, first), (last, until_ns)]
    else:
        rows, edges = (), [(since_ns, until_ns)]
    for name, start, index, invocations, errors, colds, durations in rows:
        if invocations:
            counts.setdefault((name, start), {})[index] = [invocations, errors, colds, durations]
    for start, end in edges:
        if start >= end:
            continue
        for name, begun, duration, error, cold in conn.execute(
                "SELECT function, start_ns, end_ns - start_ns, status = 'error', cold_start FROM spans INDEXED BY "
                f"spans_invocations WHERE invocation = 1 AND start_ns >= ? AND start_ns < ?{where}",
                (start, end, *extra)):
            key = (name, begun // bucket_ns * bucket_ns if bucket_ns else since_ns)
            row = counts.setdefault(key, {}).setdefault(bucket(duration), [0, 0, 0, 0])
            row[0] += 1
            row[1] += error
            row[2] += cold
            row[3] += duration
    return counts


def _stats(function: str, since_ns: int, by_bucket: dict[int, list[int]]) -> FunctionStats:
    ordered = sorted(by_bucket.items())
    total = sum(c[0] for _, c in ordered)
    return FunctionStats(function=function, bucket_start_ns=since_ns, invocations=total,
                         errors=sum(c[1] for _, c in ordered), cold_starts=sum(c[2] for _, c in ordered),
                         p50_ms=_percentile(ordered, total, 0.5), p95_ms=_percentile(ordered, total, 0.95),
                         p99_ms=_percentile(ordered, total, 0.99))


def _percentile(ordered: list[tuple[int, list[Any]]], total: int, q: float) -> float:
    """`rules.percentile` (linear between closest ranks), each rank at its bucket's mean duration."""
    position = (total - 1) * q
    low = math.floor(position)
    low_value = high_value = None
    seen = 0
    for _index, row in ordered:
        seen += row[0]
        if low_value is None and seen > low:
            low_value = row[3] / row[0] / 1e6
        if seen > low + 1 or seen == total:
            high_value = row[3] / row[0] / 1e6
            break
    assert low_value is not None and high_value is not None
    return low_value + (high_value - low_value) * (position - low)
