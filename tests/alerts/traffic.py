"""Synthetic traffic for the alert tests, written through the real store API as the collector would.

Time is counted in minutes from `T0` (a whole hour two hours ago, so the DynamoDB store's
lookback covers it on any day the tests run); `minute(k)` is the start of minute k. Within a
minute, invocations are spread evenly, so a window [k, k+1) holds exactly that minute's traffic.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from hoptrace_collector.store import DlqMessage, InvocationRecord, SpanRecord, Store

NS = 1_000_000_000
MS = 1_000_000
T0 = (time.time_ns() // (3600 * NS) - 2) * 3600 * NS


def minute(k: float) -> int:
    return T0 + int(k * 60 * NS)


@dataclass
class Traffic:
    spans: list[SpanRecord] = field(default_factory=list)
    invocation_records: list[InvocationRecord] = field(default_factory=list)
    dlq_messages: list[DlqMessage] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def invocation(self, function: str, at_ns: int, *, error: bool = False, cold: bool = False,
                   duration_ms: float = 50.0) -> str:
        """One invocation span (server kind, with a request id: what function_stats counts); its trace id."""
        n = next(self._ids)
        trace_id = f"{at_ns // NS:08x}{n:024x}"
        self.spans.append(SpanRecord(
            trace_id=trace_id, span_id=f"{n:016x}", parent_id=None, name=f"{function} invocation", kind="server",
            start_ns=at_ns, end_ns=at_ns + int(duration_ms * MS), status="error" if error else "unset",
            status_message="boom" if error else "", service=function, function=function, request_id=f"req-{n}",
            cold_start=cold, trigger="http"))
        return trace_id

    def minute_of(self, function: str, k: int, *, count: int = 20, errors: int = 1, colds: int = 1,
                  duration_ms: float = 50.0) -> list[str]:
        """`count` invocations spread over minute k: the first `errors` fail, the last `colds` start cold."""
        step = 60 * NS // count
        return [self.invocation(function, minute(k) + i * step + NS // 2, error=i < errors, cold=i >= count - colds,
                                duration_ms=duration_ms + i % 5) for i in range(count)]

    def steady(self, function: str, minutes: range, **kwargs: float) -> None:
        for k in minutes:
            self.minute_of(function, k, **kwargs)  # type: ignore[arg-type]

    def death(self, function: str, at_ns: int, outcome: str = "timeout") -> str:
        """An invocation the platform killed: its failed span and the platform's invocation record."""
        trace_id = self.invocation(function, at_ns, error=True, duration_ms=3000)
        self.invocation_records.append(InvocationRecord(
            request_id=self.spans[-1].request_id or "", function=function, time_ns=at_ns + 3000 * MS, outcome=outcome,
            duration_ms=3000.0, message="Task timed out after 3.00 seconds", trace_id=trace_id))
        return trace_id

    def dead_letter(self, queue: str, at_ns: int, trace_id: str, source: str = "orders") -> None:
        self.dlq_messages.append(DlqMessage(queue=queue, message_id=f"m-{next(self._ids)}", first_seen_ns=at_ns,
                                            receive_count=3, trace_id=trace_id, source_queue=source,
                                            error="reported in batchItemFailures"))

    def write(self, store: Store) -> None:
        store.write(self.spans, self.invocation_records, self.dlq_messages)
        self.spans, self.invocation_records, self.dlq_messages = [], [], []
