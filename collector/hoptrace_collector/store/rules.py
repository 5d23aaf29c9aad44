"""The merge rules every backend applies, in one place so SQLite and DynamoDB can never disagree.

A store is written by redelivered batches, by the layer's timeout watchdog (a `pending`
span written before the deadline), by the collector's own platform-failure spans and by
the REPORT / `Task timed out` lines of the same invocation arriving in any order. These
functions decide what wins; the backends only ask them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hoptrace_collector.store.model import DlqMessage, FunctionStats, InvocationRecord, SpanRecord

T = TypeVar("T")

#: How bad an invocation's outcome is. A higher one is never overwritten by a lower one, so a
#: plain REPORT arriving after "Task timed out" keeps the timeout (AWS logs both for one request).
OUTCOME_SEVERITY = {"ok": 0, "error": 1, "crash": 2, "timeout": 3, "oom": 4}
PLATFORM_FAILURES = frozenset({"timeout", "crash", "oom"})
INVOCATION_KINDS = frozenset({"server", "consumer"})


def span_rank(span: SpanRecord) -> int:
    """Which write of the same (trace id, span id) wins: the highest rank, the latest among equals.

    0: a `pending` span from the layer's timeout watchdog (a placeholder);
    1: a finished span from the layer or an OTLP sender;
    2: the collector's platform-failure span (timeout, crash, OOM), built on top of the
       placeholder it replaces: the platform's verdict on an invocation the layer could not finish.
    """
    if span.pending:
        return 0
    return 2 if span.source == "platform" else 1


def wins(new_rank: int, old_rank: int) -> bool:
    return new_rank >= old_rank


def is_invocation_span(span: SpanRecord) -> bool:
    """The span that stands for one invocation in function stats, the same rule in every backend.

    The layer puts `faas.invocation_id` (→ `request_id`) only on the invocation span, never on
    the per-record `process` spans of a batch, so "has a request id and is server/consumer"
    picks exactly one span per invocation (the platform-failure span follows the same rule).
    """
    return span.request_id is not None and span.kind in INVOCATION_KINDS


def merge_invocation(old: InvocationRecord | None, new: InvocationRecord) -> InvocationRecord:
    """Combine two reports of one invocation: the worst outcome with its message, every figure known."""
    if old is None:
        return new
    return _out_of_memory(_merged(old, new))


def _merged(old: InvocationRecord, new: InvocationRecord) -> InvocationRecord:
    worse = new if OUTCOME_SEVERITY.get(new.outcome, 0) > OUTCOME_SEVERITY.get(old.outcome, 0) else old
    return dataclasses.replace(
        old,
        time_ns=max(old.time_ns, new.time_ns),
        outcome=worse.outcome,
        message=worse.message or old.message or new.message,
        duration_ms=_known(new.duration_ms, old.duration_ms),
        billed_ms=_known(new.billed_ms, old.billed_ms),
        memory_mb=_known(new.memory_mb, old.memory_mb),
        max_memory_mb=_known(new.max_memory_mb, old.max_memory_mb),
        init_ms=_known(new.init_ms, old.init_ms),
        log_group=new.log_group or old.log_group,
        log_stream=new.log_stream or old.log_stream,
        trace_id=_known(new.trace_id, old.trace_id),
    )


def _out_of_memory(record: InvocationRecord) -> InvocationRecord:
    """A SIGKILL with every megabyte used is how AWS reports an out-of-memory death (crash line + REPORT)."""
    if (record.outcome == "crash" and "signal: killed" in record.message and record.memory_mb
            and record.max_memory_mb is not None and record.max_memory_mb >= record.memory_mb):
        return dataclasses.replace(record, outcome="oom", message=f"{record.message} (out of memory: "
                                   f"{record.max_memory_mb} of {record.memory_mb} MB used)")
    return record


def merge_dlq(old: DlqMessage | None, new: DlqMessage) -> DlqMessage:
    """The same message seen again by the watcher: the earliest sighting and its receive count (each later
    peek is itself a receive, so a higher count says nothing about the consumers)."""
    if old is None:
        return new
    return dataclasses.replace(
        old,
        first_seen_ns=min(old.first_seen_ns, new.first_seen_ns),
        receive_count=(old.receive_count if old.first_seen_ns <= new.first_seen_ns else new.receive_count),
        trace_id=_known(new.trace_id, old.trace_id),
        parent_span_id=_known(new.parent_span_id, old.parent_span_id),
        body_preview=new.body_preview or old.body_preview,
        source_queue=_known(new.source_queue, old.source_queue),
        error=new.error or old.error,
    )


def _known(preferred: T | None, fallback: T | None) -> T | None:
    return fallback if preferred is None else preferred


def winners(spans: Iterable[SpanRecord]) -> dict[tuple[str, str], tuple[int, SpanRecord]]:
    """One span per (trace id, span id) out of a batch that may repeat ids, by `span_rank`."""
    chosen: dict[tuple[str, str], tuple[int, SpanRecord]] = {}
    get = chosen.get
    for span in spans:  # once per stored span: `span_rank` and `wins` spelled out
        key = (span.trace_id, span.span_id)
        rank = 0 if span.pending else 2 if span.source == "platform" else 1
        previous = get(key)
        if previous is None or rank >= previous[0]:
            chosen[key] = (rank, span)
    return chosen


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), over an ascending sequence."""
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bucket_start(time_ns: int, bucket_ns: int) -> int:
    """Buckets are aligned to multiples of their size since the epoch, so charts line up across queries."""
    return time_ns // bucket_ns * bucket_ns


@dataclass(slots=True)
class TraceDelta:
    """What a set of new or replaced spans adds to one trace's summary row.

    Kept incrementally on write (never by grouping the span table at read time), so listing
    the newest traces stays an index range scan however large the store grows.
    """

    start_ns: int
    end_ns: int
    root_rank: int
    root_start: int
    root_service: str
    root_name: str
    span_count: int = 0
    error_count: int = 0
    cold_starts: int = 0
    services: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, span: SpanRecord) -> TraceDelta:
        return cls(span.start_ns, span.end_ns, root_rank(span), span.start_ns, span.service, span.name)

    def add(self, span: SpanRecord, old_error: bool | None = None, old_cold: bool | None = None) -> None:
        """Count `span`; `old_*` are the replaced version's flags (None when the span is new).
        Once per stored span, so `root_rank` and `trace_keys` are spelled out here."""
        start = span.start_ns
        if start < self.start_ns:
            self.start_ns = start
        if span.end_ns > self.end_ns:
            self.end_ns = span.end_ns
        rank = 0 if span.parent_id is None else 1 if span.kind in _RECEIVING else 2
        if rank < self.root_rank or (rank == self.root_rank and start < self.root_start):
            self.root_rank, self.root_start = rank, start
            self.root_service, self.root_name = span.service, span.name
        error, cold = span.status == "error", span.cold_start
        if old_error is None:
            self.span_count += 1
            self.error_count += error
            self.cold_starts += cold
        else:
            self.error_count += error - bool(old_error)
            self.cold_starts += cold - bool(old_cold)
        self.services.add(span.service)
        self.functions.add(span.function)

    def listing_keys(self) -> list[str]:
        """The trace's listing keys (`trace_keys`): built once per trace, not once per span."""
        return [*("s:" + service for service in self.services), *("f:" + function for function in self.functions)]


_RECEIVING = ("server", "consumer")


def root_rank(span: SpanRecord) -> int:
    """How well a span names its trace: 0 a true root (no parent); 1 a span that received the request
    (server/consumer), as when the caller's own span was never stored; 2 anything else. Without the
    middle rank a cold start's `init` span, which starts before the request arrives, named the trace."""
    if span.parent_id is None:
        return 0
    return 1 if span.kind in _RECEIVING else 2


def trace_keys(span: SpanRecord) -> tuple[str, str]:
    """The index keys under which a trace is listed: its services and its functions."""
    return ("s:" + span.service, "f:" + span.function)


def matches_text(span: SpanRecord, needle: str) -> bool:
    """TraceFilter.text: a case-insensitive substring of the span's name or of an attribute value."""
    needle = needle.lower()
    if needle in span.name.lower():
        return True
    return any(needle in str(value).lower() for value in span.attributes.values())


def stats_from_rows(rows: Iterable[tuple[str, int, int, Any, Any]]) -> Iterable[FunctionStats]:
    """(function, bucket start, duration ns, is error, is cold) sorted by function, bucket, duration."""
    for (function, bucket), group in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
        durations: list[float] = []
        errors = colds = 0
        for _f, _b, duration_ns, error, cold in group:
            durations.append(duration_ns / 1e6)
            errors += bool(error)
            colds += bool(cold)
        yield FunctionStats(function=function, bucket_start_ns=bucket, invocations=len(durations), errors=errors,
                            cold_starts=colds, p50_ms=percentile(durations, 0.5),
                            p95_ms=percentile(durations, 0.95), p99_ms=percentile(durations, 0.99))
