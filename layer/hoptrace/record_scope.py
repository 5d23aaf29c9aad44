"""Per-record context for batches that mix traces: outbound calls join the record being processed.

A handler that loops over `event["Records"]` and publishes or calls something per record
would otherwise parent every outbound call to the invocation span, which belongs to none of
the producers' traces, and each request's flow would stop at the batch.

The user's objects are never touched (the event stays the very list of the very dicts Lambda
delivered, so `deepcopy`, `pickle`, `json` and `type(...) is list` behave as without the
layer). Instead, when an outbound call (AWS SDK, HTTP) or a span of the function's own is
started while the invocation span of such a batch is current, the caller's frames are walked
for a local that *is* one of the batch's record dicts (identity, not equality); the call is
parented under that record's `process` span (also from a worker thread the record was handed
to, where no span is current). This costs a few microseconds, only for calls
made during a mixed-trace batch; everything else sees one `is None` check.

A caller that keeps only a part of the record (`body = record["body"]`, then a helper takes
`body`) is still found while the frame holding `record` is on the stack; one that has left
the loop (a call after it, with `record` still bound to the last one) is parented under the
last record, which is what the code reads as.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from hoptrace.engine import SpanRef

if TYPE_CHECKING:
    from typing import Protocol, TypeVar

    class _Identified(Protocol):
        span_id: int

    _Current = TypeVar("_Current", bound=_Identified)  # a SpanRef, or the SDK engine's stand-in for one

MAX_FRAMES = 48
# (invocation span id, {id(record dict): its span}, the records): holding the records keeps their ids theirs
_scope: tuple[int, dict[int, SpanRef], list[Any]] | None = None


def _message_id(record: Any) -> str | None:
    if "messageId" in record:
        return str(record["messageId"])
    sns = record.get("Sns")
    return str(sns.get("MessageId")) if isinstance(sns, dict) else None


def open(event: Any, record_spans: dict[str, SpanRef], invocation_span: SpanRef) -> None:
    """Remember which record dict belongs to which `process` span, for this invocation only."""
    global _scope
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return
    by_identity: dict[int, SpanRef] = {}
    for record in records:
        if isinstance(record, dict):
            span = record_spans.get(_message_id(record) or "")
            if span is not None:
                by_identity[id(record)] = span
    if by_identity:
        _scope = (invocation_span.span_id, by_identity, records[:])


def close() -> None:
    global _scope
    _scope = None


def active() -> bool:
    return _scope is not None


def parent(current: _Current | None, skip: int = 2) -> _Current | SpanRef | None:
    """`current`, or the `process` span of the record the caller is working on (see the module doc)."""
    scope = _scope
    if scope is None or (current is not None and current.span_id != scope[0]):
        return current  # no mixed batch, or already inside a span of the record's (or the user's)
    spans = scope[1]
    try:
        frame: Any = sys._getframe(skip)
    except ValueError:
        return current
    for _ in range(MAX_FRAMES):
        if frame is None:
            break
        for value in frame.f_locals.values():
            span = spans.get(id(value))
            if span is not None:
                return span
        frame = frame.f_back
    return current
