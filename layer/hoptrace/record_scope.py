"""Per-record context for batches that mix traces: outbound calls join the record being processed.

A handler that loops over `event["Records"]` and publishes or calls something per record
would otherwise parent every outbound call to the invocation span, which belongs to none of
the producers' traces, and each request's flow would stop at the batch. Replacing the list
with `TracedRecords` (a `list` in every other respect, the same records in the same order)
makes each record's `process` span current while the handler holds that record — the
technique OpenTelemetry's boto3 SQS instrumentation uses for received messages.
Only iteration switches context: indexing, `len`, `json.dumps` and slicing behave exactly as
before (a slice is a plain list, so code that copies the batch simply loses the scoping).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span


class TracedRecords(list):
    __slots__ = ("_contexts",)

    def __init__(self, records: list[Any], contexts: list[otel_context.Context | None]) -> None:
        super().__init__(records)
        self._contexts = contexts

    def __iter__(self) -> Iterator[Any]:
        contexts = self._contexts
        for index, record in enumerate(list.__iter__(self)):
            scope = contexts[index] if index < len(contexts) else None
            token = otel_context.attach(scope) if scope is not None else None
            try:
                yield record
            finally:
                # Left early by an exception, the generator may be closed only after the invocation
                # ended: then the context is no longer ours to reset.
                if token is not None and otel_context.get_current() is scope:
                    otel_context.detach(token)


def _message_id(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    if "messageId" in record:
        return str(record["messageId"])
    sns = record.get("Sns")
    return str(sns.get("MessageId")) if isinstance(sns, dict) else None


def scope_records(event: Any, record_spans: dict[str, Span]) -> None:
    """Swap `event["Records"]` for a TracedRecords whose items carry their own span's context."""
    records = event.get("Records") if isinstance(event, dict) else None
    if type(records) is not list:
        return
    contexts = []
    for record in records:
        span = record_spans.get(_message_id(record) or "")
        contexts.append(trace.set_span_in_context(span) if span is not None else None)
    event["Records"] = TracedRecords(records, contexts)
