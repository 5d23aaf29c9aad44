"""One invocation's spans: opened before the handler, closed and written after it.

`start` and `finish` are the only two calls on the hot path. Both run inside the
wrapper's guards, so anything raised here is counted and the handler never notices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from hoptrace import coldstart, export, semconv
from hoptrace.config import Config
from hoptrace.propagation import from_lambda_environment
from hoptrace.record_scope import scope_records
from hoptrace.redaction import capture
from hoptrace.tracing import Tracing
from hoptrace.triggers import Invocation, detect

_KINDS = {"server": SpanKind.SERVER, "consumer": SpanKind.CONSUMER, "internal": SpanKind.INTERNAL}


@dataclass
class Active:
    invocation: Invocation
    span: Span
    token: object
    records: dict[str, Span] = field(default_factory=dict)


def start(tracing: Tracing, config: Config, event: Any, lambda_context: Any) -> Active:
    invocation = detect(event, lambda_context, config)
    attributes = invocation.attributes
    parent, source = invocation.parent, None
    if parent is not None:
        source = parent.source
    elif not any(r.parent for r in invocation.records):
        parent, problem = from_lambda_environment()
        if problem:
            invocation.problems.append(problem)
        source = "lambda-env" if parent else None
    attributes[semconv.CONTEXT_SOURCE] = source or "none"
    if invocation.problems:
        attributes["hoptrace.context_problems"] = invocation.problems[:10]
    _lambda_attributes(attributes, lambda_context)
    cold = coldstart.take()
    attributes[semconv.FAAS_COLDSTART] = cold
    if config.capture_payload:
        attributes[semconv.EVENT_PAYLOAD] = capture(event, config.redacted_keys, config.redacted_headers,
                                                    config.payload_max_bytes)
    parent_context = tracing.remote_parent(parent) if parent is not None else otel_context.Context()
    links = []
    if parent is None:
        links = [Link(tracing.remote_parent_span_context(r.parent), {"messaging.message.id": r.message_id})
                 for r in invocation.records if r.parent is not None and r.parent.span_id is not None]
    span = tracing.tracer.start_span(invocation.name, context=parent_context, kind=_KINDS[invocation.kind],
                                     attributes=attributes, links=links)
    if cold:
        _init_span(tracing, span)
    token = otel_context.attach(trace.set_span_in_context(span))
    active = Active(invocation, span, token)
    _start_records(tracing, active)
    if parent is None and links:  # records from several traces: let each one's work join its own trace
        scope_records(event, active.records)
    return active


def _lambda_attributes(attributes: dict[str, Any], lambda_context: Any) -> None:
    request_id = getattr(lambda_context, "aws_request_id", None)
    if isinstance(request_id, str):
        attributes[semconv.FAAS_INVOCATION_ID] = request_id
    arn = getattr(lambda_context, "invoked_function_arn", None)
    if isinstance(arn, str):
        attributes[semconv.CLOUD_RESOURCE_ID] = arn
        parts = arn.split(":")
        if len(parts) > 4:
            attributes[semconv.CLOUD_ACCOUNT_ID] = parts[4]


def _init_span(tracing: Tracing, span: Span) -> None:
    """The cold start's init as its own segment, so a waterfall shows what the request paid."""
    attributes_init = {semconv.INIT_TYPE: coldstart.INIT_TYPE}
    span.set_attribute(semconv.INIT_TYPE, coldstart.INIT_TYPE)
    if not coldstart.paid_by_request():
        return
    start_ns = coldstart.PROCESS_START_NS
    end_ns = span.start_time
    init_ms = round((end_ns - start_ns) / 1e6, 3)
    span.set_attribute(semconv.INIT_DURATION_MS, init_ms)
    attributes_init[semconv.INIT_DURATION_MS] = init_ms
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "function"
    init = tracing.tracer.start_span(f"init {name}", context=trace.set_span_in_context(span),
                                     kind=SpanKind.INTERNAL, attributes=attributes_init, start_time=start_ns)
    init.end(end_time=end_ns)


def _start_records(tracing: Tracing, active: Active) -> None:
    invocation_context = trace.set_span_in_context(active.span)
    continued = active.invocation.parent is not None
    for record in active.invocation.records:
        links = [Link(active.span.get_span_context())]
        if continued or record.parent is None or record.parent.span_id is None:
            parent_context = invocation_context
            if record.parent is not None and record.parent.span_id is not None:
                links = [Link(tracing.remote_parent_span_context(record.parent))]
        else:
            parent_context = tracing.remote_parent(record.parent)
        span = tracing.tracer.start_span(record.name, context=parent_context, kind=SpanKind.CONSUMER,
                                         attributes=record.attributes, links=links)
        active.records.setdefault(record.message_id, span)


def finish(tracing: Tracing, config: Config, active: Active, result: Any, error: BaseException | None,
           resource: dict[str, Any]) -> None:
    span = active.span
    try:
        if error is not None:
            span.record_exception(error, escaped=True)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:1024]))
        elif isinstance(result, dict):
            _response(active, result)
        if config.capture_payload and error is None:
            span.set_attribute(semconv.RESPONSE_PAYLOAD, capture(result, config.redacted_keys,
                                                                 config.redacted_headers, config.payload_max_bytes))
    finally:
        for record_span in active.records.values():
            record_span.end()
        span.end()
        otel_context.detach(active.token)
        export.write(tracing.buffer.drain(), resource, config.otlp_endpoint, config.otlp_timeout_s)


def _response(active: Active, result: dict[str, Any]) -> None:
    span = active.span
    status = result.get("statusCode")
    if active.invocation.is_http and type(status) is int:
        span.set_attribute(semconv.HTTP_STATUS, status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
    failures = result.get("batchItemFailures")
    if active.records and isinstance(failures, list) and failures:
        failed = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        for message_id, record_span in active.records.items():
            if message_id in failed:
                record_span.set_attribute(semconv.BATCH_ITEM_FAILED, True)
                record_span.set_status(Status(StatusCode.ERROR, "reported in batchItemFailures"))
        span.set_attribute("hoptrace.batch_item_failures", len(failed))
        named = sorted(str(item) for item in failed if item in active.records)
        which = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        span.set_status(Status(StatusCode.ERROR, f"{len(failed)} of {len(active.records)} records failed: the "
                                                 f"handler returned {which or 'them'} in batchItemFailures"))
