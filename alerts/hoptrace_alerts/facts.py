"""What the rules read from the store at one evaluation time, each query asked once and shared.

All rules of one evaluation look at the same windows, so the store is asked once per time range
for every function at once (`function_stats` with one bucket spanning the range), once for the
platform deaths and once for the DLQ; per-function overrides with other windows add one query
per distinct range, never one per function. Example trace ids are looked up only for findings
that breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hoptrace_collector.store import DlqMessage, InvocationRecord, Store, TraceFilter

NS = 1_000_000_000
DEATHS = ("timeout", "oom", "crash")
DEATH_LIMIT = 10_000  # platform deaths read per range: far past any threshold worth alerting on
DLQ_LIMIT = 2_000  # newest DLQ messages read; older ones cannot fall into the windows of a busy queue
EXAMPLES = 3


@dataclass(frozen=True)
class Volume:
    """One function's invocations in a time range, aggregated over the whole range."""

    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0


NO_TRAFFIC = Volume()
Range = tuple[int, int]


class Facts:
    def __init__(self, store: Store, now_ns: int, lag_s: float = 0.0) -> None:
        self.store = store
        self.now_ns = now_ns
        self.until_ns = now_ns - int(lag_s * NS)  # spans still on their way through the logs are not judged
        self._volumes: dict[Range, dict[str, Volume]] = {}
        self._deaths: dict[Range, list[InvocationRecord]] = {}
        self._dlq: list[DlqMessage] | None = None
        self._functions: list[str] | None = None

    def windows(self, window_s: float, baseline_windows: int = 0) -> tuple[Range, Range]:
        """(current, baseline): the last `window_s` before now, and the `baseline_windows` windows before it."""
        window_ns = int(window_s * NS)
        current = (self.until_ns - window_ns, self.until_ns)
        return current, (current[0] - baseline_windows * window_ns, current[0])

    def functions(self) -> list[str]:
        if self._functions is None:
            self._functions = self.store.functions()
        return self._functions

    def volume(self, span: Range, function: str) -> Volume:
        """Invocations, errors, cold starts and percentiles of `function` over `span` (one store query per span)."""
        volumes = self._volumes.get(span)
        if volumes is None:
            since, until = span
            # Buckets are aligned to multiples of their size since the epoch: one longer than `until` is
            # a single bucket holding the whole range, so percentiles are exact over it.
            rows = self.store.function_stats(since_ns=since, until_ns=until, bucket_s=until // NS + 1) \
                if until > since else []
            volumes = self._volumes[span] = {
                r.function: Volume(r.invocations, r.errors, r.cold_starts, r.p50_ms, r.p95_ms, r.p99_ms)
                for r in rows}
        return volumes.get(function, NO_TRAFFIC)

    def deaths(self, span: Range, function: str | None = None) -> list[InvocationRecord]:
        """Invocations the platform reported as timed out, crashed or out of memory, newest first."""
        records = self._deaths.get(span)
        if records is None:
            records = self._deaths[span] = self.store.invocations(
                since_ns=span[0], until_ns=span[1] - 1, outcomes=DEATHS, limit=DEATH_LIMIT)
        return records if function is None else [r for r in records if r.function == function]

    def dlq(self, span: Range, queue: str | None = None) -> list[DlqMessage]:
        """Messages first seen in a dead-letter queue within `span`, newest first."""
        if self._dlq is None:
            self._dlq = self.store.dlq_messages(limit=DLQ_LIMIT)
        return [m for m in self._dlq if span[0] <= m.first_seen_ns < span[1] and (queue is None or m.queue == queue)]

    def queues(self, span: Range) -> list[str]:
        return sorted({m.queue for m in self.dlq(span)})

    def example_traces(self, **flt: Any) -> tuple[str, ...]:
        """Ids of the newest traces matching a TraceFilter (the ones a notification links to)."""
        return tuple(t.trace_id for t in self.store.list_traces(TraceFilter(limit=EXAMPLES, **flt)))

    def failing_function(self, trace_id: str) -> str | None:
        """The function of the last failed span in a trace: who could not process a dead-lettered message."""
        failed = [s for s in self.store.get_trace(trace_id) if s.status == "error" and s.function]
        return max(failed, key=lambda s: s.end_ns).function if failed else None
