"""A trace's application log lines: which invocation each span ran in, its lines, and a failed record's cause.

Log lines are stored per invocation (function + request id). A span knows its invocation
through the invocation span: its own request id, an ancestor's in the same function, or — for
the per-record `process` spans of a batch that mixed traces, which live in the producer's
trace — the invocation span they link to, in the batch's own trace.

A record reported in `batchItemFailures` gets its cause: the lines of its invocation logged
while it was processed (a line carrying the record's span id, from the layer's logging
correlation), else the lines that mention its message id (a `print` with no record marker
usually names the message it failed on), else the invocation's error lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hoptrace import semconv
from hoptrace_collector.store import DlqMessage, LogLine, SpanRecord, Store
from hoptrace_collector.store.loglines import InvocationKey


@dataclass(frozen=True)
class TraceLogs:
    lines: list[LogLine]  # every line of the trace's invocations, in time order
    invocation_of: dict[str, InvocationKey]  # span id → its invocation

    def of_span(self, span: SpanRecord) -> list[LogLine]:
        key = self.invocation_of.get(span.span_id)
        return [] if key is None else [x for x in self.lines if (x.function, x.request_id) == key]

    def cause(self, span: SpanRecord) -> list[LogLine]:
        """The lines that say why a failed record failed (empty when nothing ties a line to it)."""
        lines = self.of_span(span)
        mine = [x for x in lines if x.span_id == span.span_id]
        if mine:
            return [x for x in mine if x.is_error] or mine
        message_id = span.attributes.get(semconv.MESSAGING_MESSAGE_ID)
        if isinstance(message_id, str) and len(message_id) >= 8:
            mentioning = [x for x in lines if message_id in x.message]
            if mentioning:
                return mentioning
        return [x for x in lines if x.is_error]


def invocations(spans: Sequence[SpanRecord],
                other_trace: Callable[[str], list[SpanRecord]]) -> dict[str, InvocationKey]:
    """Span id → (function, request id) of the invocation it ran in, for every span that has one."""
    by_id = {s.span_id: s for s in spans}
    found: dict[str, InvocationKey] = {}
    fetched: dict[str, dict[str, SpanRecord]] = {}
    for span in spans:
        key = _up(span, by_id)
        if key is None:
            for link in span.links:
                trace_id, span_id = link.get("trace_id"), link.get("span_id")
                if not isinstance(trace_id, str) or not isinstance(span_id, str) or trace_id == span.trace_id:
                    continue
                if trace_id not in fetched:
                    fetched[trace_id] = {s.span_id: s for s in other_trace(trace_id)}
                target = fetched[trace_id].get(span_id)
                if target is not None and target.function == span.function:
                    key = _up(target, fetched[trace_id])
                    if key is not None:
                        break
        if key is not None:
            found[span.span_id] = key
    return found


def _up(span: SpanRecord, by_id: dict[str, SpanRecord]) -> InvocationKey | None:
    """The request id of the span or of its nearest ancestor in the same function."""
    seen = 0
    current: SpanRecord | None = span
    while current is not None and current.function == span.function and seen < 64:
        if current.request_id:
            return current.function, current.request_id
        current = by_id.get(current.parent_id or "")
        seen += 1
    return None


def trace_logs(store: Store, spans: Sequence[SpanRecord]) -> TraceLogs:
    invocation_of = invocations(spans, store.get_trace)
    keys = sorted(set(invocation_of.values()))
    return TraceLogs(store.invocation_logs(keys) if keys else [], invocation_of)


@dataclass(frozen=True)
class DlqEnd:
    """Where a message of the trace ended: a dead-letter queue, after how many receives, with its cause."""

    queue: str
    source_queue: str
    receive_count: int
    first_seen_ns: int
    message_id: str
    error: str
    cause: list[LogLine]


def dlq_ends(store: Store, trace_id: str, spans: Sequence[SpanRecord], logs: TraceLogs,
             limit: int = 2000, messages: Sequence[DlqMessage] | None = None) -> list[DlqEnd]:
    """The trace's messages that reached a DLQ (SQS redrive keeps the message id; async on-failure DLQs
    hold the event, whose message the watcher ties to the trace), newest DLQ records first. A caller
    explaining many messages passes the `messages` it already read, so the DLQ is read once, not per trace."""
    ends = []
    for message in store.dlq_messages(limit=limit) if messages is None else messages:
        if message.trace_id != trace_id:
            continue
        failed = [s for s in spans if s.status == "error"
                  and s.attributes.get(semconv.MESSAGING_MESSAGE_ID) == message.message_id] or [
            s for s in spans if s.status == "error" and s.request_id]  # an async event: its failed invocations
        cause = next((lines for s in reversed(failed) if (lines := logs.cause(s))), [])
        ends.append(DlqEnd(message.queue, message.source_queue or "", message.receive_count, message.first_seen_ns,
                           message.message_id, message.error, cause))
    return ends
