"""The one small interface every span store implements (SQLite, DynamoDB).

The collector writes through it; the dashboard and the alert evaluator read through it.
Queries that could touch many rows (stats, trace lists) are methods here, so each backend
pushes them into its own engine instead of the caller loading the store into memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from hoptrace_collector.store.links import LinkKey
from hoptrace_collector.store.loglines import InvocationKey, LogLine
from hoptrace_collector.store.model import (
    DlqMessage,
    FunctionStats,
    InvocationRecord,
    SpanRecord,
    TraceFilter,
    TraceSummary,
    WriteResult,
)
from hoptrace_collector.store.streamstate import Position, StreamState


class StoreError(RuntimeError):
    """The store could not do what was asked (unreachable, locked past the retry budget, bad URL)."""


class UnstorableError(StoreError):
    """Something in the records themselves cannot be stored (text no encoder takes, a number past 64 bits,
    an item past the backend's size limit): retrying the same batch would fail the same way, so the
    collector isolates the records that cause it (ingest.quarantine) and stores the rest."""


class Store(Protocol):
    url: str

    def write(self, spans: Sequence[SpanRecord] = (), invocations: Sequence[InvocationRecord] = (),
              dlq: Sequence[DlqMessage] = ()) -> WriteResult:
        """Store everything or raise StoreError. Idempotent: rewriting the same records changes nothing."""

    def write_logs(self, lines: Sequence[LogLine]) -> int:
        """Store application log lines (idempotent by function, request id and event id); returns lines taken."""

    def write_stream_state(self, state: StreamState) -> None:
        """Where a log stream stands after a batch (see `streamstate`); idempotent by stream and position."""

    def stream_state(self, log_group: str, log_stream: str, position: Position, *,
                     after: bool = False) -> StreamState | None:
        """The stream's last state before `position` (with `after`: its first state after it), or None."""

    def write_pending_lines(self, log_group: str, lines: Sequence[LogLine]) -> None:
        """Lines of one stream whose invocation is not known yet (request id ""); idempotent by position."""

    def pending_lines(self, log_group: str, log_stream: str, after: Position,
                      until: Position | None) -> list[LogLine]:
        """The stream's pending lines strictly between two positions (`until` None: no upper bound)."""

    def invocation_logs(self, keys: Sequence[InvocationKey]) -> list[LogLine]:
        """The log lines of these (function, request id) invocations, in time order."""

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        """Every span of the trace, ordered by start time."""

    def list_traces(self, flt: TraceFilter) -> list[TraceSummary]:
        """Newest first."""

    def spans(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
              errors_only: bool = False, cold_starts_only: bool = False, limit: int = 1000) -> list[SpanRecord]:
        """Newest first; with `cold_starts_only` / `errors_only` this is the cold-start / failures query."""

    def invocations(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
                    outcomes: Sequence[str] | None = None, limit: int = 1000) -> list[InvocationRecord]:
        """Newest first."""

    def dlq_messages(self, *, queue: str | None = None, limit: int = 1000) -> list[DlqMessage]:
        """Newest first."""

    def function_stats(self, *, since_ns: int, until_ns: int, bucket_s: int = 60,
                       function: str | None = None) -> list[FunctionStats]:
        """One row per function and bucket with at least one invocation."""

    def functions(self) -> list[str]:
        """Every function (or service) that has spans."""

    def link_rows(self, keys: Sequence[str]) -> list[LinkKey]:
        """Both sides (producer and consumer rows) of each link key; see `store.links`."""

    def delete_older_than(self, cutoff_ns: int) -> int:
        """Retention: remove everything that started before the cutoff; returns rows removed."""

    def close(self) -> None: ...


#: One `function_stats` bucket from the epoch to beyond 2100: per-function totals of any range.
WHOLE_RANGE_BUCKET_S = 4_000_000_000


def function_totals(store: Store, *, since_ns: int, until_ns: int, function: str | None = None) -> list[FunctionStats]:
    """Per function over the whole range (invocations, errors, cold starts, p50/p95/p99).

    A store that keeps per-minute rollups answers from them (`SqliteStore.function_totals`: exact
    counts, percentiles within 2 %); any other store answers with one bucket of `function_stats`.
    """
    own = getattr(store, "function_totals", None)
    if own is not None:
        return list(own(since_ns=since_ns, until_ns=until_ns, function=function))
    return store.function_stats(since_ns=since_ns, until_ns=until_ns, bucket_s=WHOLE_RANGE_BUCKET_S,
                                function=function)


def function_series(store: Store, *, since_ns: int, until_ns: int, bucket_s: int,
                    function: str | None = None) -> list[FunctionStats]:
    """`function_stats` per time bucket, for charts: from the store's per-minute rollups when it keeps them and
    the buckets are whole minutes (`SqliteStore.function_series`: exact counts, percentiles within 2 %)."""
    own = getattr(store, "function_series", None)
    if own is not None and bucket_s >= 60 and bucket_s % 60 == 0:
        return list(own(since_ns=since_ns, until_ns=until_ns, bucket_s=bucket_s, function=function))
    return store.function_stats(since_ns=since_ns, until_ns=until_ns, bucket_s=bucket_s, function=function)


def cold_vs_warm(store: Store, *, since_ns: int, until_ns: int,
                 function: str | None = None) -> list[tuple[str, str, int, float, float]] | None:
    """(function, "cold" | "warm", invocations, p50 ms, p95 ms) over every invocation of the range, from a store
    that keeps per-minute rollups (`SqliteStore.cold_vs_warm`); None from one that does not (the caller then
    sets a sample of cold starts against a sample of warm invocations)."""
    own = getattr(store, "cold_vs_warm", None)
    return None if own is None else list(own(since_ns=since_ns, until_ns=until_ns, function=function))


def slowest_traces(store: Store, *, since_ns: int, until_ns: int, n: int = 10,
                   limit: int = 500) -> tuple[list[TraceSummary], bool]:
    """The `n` longest traces that started in the range, longest first, and whether that is exact.

    A store with its own "longest first" query (`SqliteStore.slowest_traces`, over its trace
    summaries) answers exactly. Otherwise it is built from `list_traces`: the n-th longest of any
    subset bounds the n-th longest overall from below, so every true top-n trace is at least that
    long; ask for the traces above it, raising the bound while the answer is cut by `limit`. Exact
    whenever the last answer was not cut.
    """
    own = getattr(store, "slowest_traces", None)
    if own is not None:
        return list(own(since_ns=since_ns, until_ns=until_ns, n=n)), True
    flt = TraceFilter(since_ns=since_ns, until_ns=until_ns, limit=limit)
    found = store.list_traces(flt)
    for _ in range(6):
        if len(found) < limit:
            break
        bound = sorted((s.duration_ns for s in found), reverse=True)[min(n, len(found)) - 1] / 1e6
        if flt.min_duration_ms is not None and bound <= flt.min_duration_ms:
            break  # ties at the bound: more reads would return the same rows
        flt = dataclasses.replace(flt, min_duration_ms=bound)
        found = store.list_traces(flt)
    return sorted(found, key=lambda s: s.duration_ns, reverse=True)[:n], len(found) < limit
