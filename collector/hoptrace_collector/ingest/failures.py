"""A failed span for an invocation the platform killed (timeout, crash, out of memory).

No in-process tracer can record these deaths, so the collector writes the span itself from
the platform lines, joined to the request's trace when it can be found:

1. a span of the same function and request id, in this batch or already stored (normally
   the layer's `pending` invocation span written by its timeout watchdog): the failed span
   takes that span's trace id, span id, parent, name and attributes, so it *replaces* the
   placeholder in place (`source="platform"` outranks `pending`, see store.rules.span_rank);
2. else the REPORT's `XRAY TraceId` (active tracing), as a new root span of that trace;
3. else a trace of its own, with ids derived from the function and request id, so a
   redelivered batch writes the very same span again instead of a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from hoptrace import semconv
from hoptrace_collector.store.model import InvocationRecord, SpanRecord, TraceFilter
from hoptrace_collector.store.rules import PLATFORM_FAILURES, is_invocation_span

OUTCOME = semconv.PLATFORM_OUTCOME
DURATION_MS = "hoptrace.platform.duration_ms"
MAX_MEMORY_MB = "hoptrace.platform.max_memory_used_mb"

Lookup = Callable[[str, str], SpanRecord | None]


def derived_ids(function: str, request_id: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"hoptrace-platform\n{function}\n{request_id}".encode()).hexdigest()
    return digest[:32], digest[32:48]


def stored_invocation_span(store: Any) -> Lookup:
    """A lookup of the invocation span of (function, request id) in `store`, through the Store interface."""

    def lookup(function: str, request_id: str) -> SpanRecord | None:
        for summary in store.list_traces(TraceFilter(request_id=request_id, limit=5)):
            for span in store.get_trace(summary.trace_id):
                if span.request_id == request_id and span.function == function and is_invocation_span(span):
                    return span
        return None

    return lookup


def failure_span(record: InvocationRecord, known: SpanRecord | None, started_ns: int | None) -> SpanRecord:
    """The failed span for `record` (outcome timeout/crash/oom), built on `known` when there is one."""
    if record.outcome not in PLATFORM_FAILURES:
        raise ValueError(f"no failure span for outcome {record.outcome!r}")
    message = record.message or record.outcome
    attributes: dict[str, Any] = {semconv.FAAS_INVOCATION_ID: record.request_id, OUTCOME: record.outcome}
    if record.duration_ms is not None:
        attributes[DURATION_MS] = record.duration_ms
    if record.max_memory_mb is not None:
        attributes[MAX_MEMORY_MB] = record.max_memory_mb
    if known is not None:
        return SpanRecord(
            trace_id=known.trace_id, span_id=known.span_id, parent_id=known.parent_id, name=known.name,
            kind=known.kind, start_ns=known.start_ns, end_ns=max(known.end_ns, record.time_ns), status="error",
            status_message=message, service=known.service, function=known.function, request_id=record.request_id,
            cold_start=known.cold_start, trigger=known.trigger,
            attributes={**{k: v for k, v in known.attributes.items() if k != semconv.PENDING}, **attributes},
            events=known.events, links=known.links, resource=known.resource, source="platform")
    trace_id, span_id = derived_ids(record.function, record.request_id)
    trace_id = record.trace_id or trace_id
    start = started_ns
    if start is None:
        start = record.time_ns - int((record.duration_ms or 0) * 1_000_000)
    cold = record.init_ms is not None
    if cold:
        attributes[semconv.FAAS_COLDSTART] = True
    resource = {semconv.SERVICE_NAME: record.function, semconv.FAAS_NAME: record.function,
                semconv.CLOUD_PROVIDER: "aws", semconv.CLOUD_PLATFORM: "aws_lambda"}
    return SpanRecord(
        trace_id=trace_id, span_id=span_id, parent_id=None, name=record.function, kind="server",
        start_ns=min(start, record.time_ns), end_ns=record.time_ns, status="error", status_message=message,
        service=record.function, function=record.function, request_id=record.request_id, cold_start=cold,
        attributes=attributes, resource=resource, source="platform")
