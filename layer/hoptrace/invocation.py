"""One invocation's spans: opened before the handler, closed and written after it.

`start` and `finish` are the only two calls on the hot path. Both run inside the
wrapper's guards, so anything raised here is counted and the handler never notices.
They talk to an engine through `hoptrace.engine`'s seam only.
"""

from __future__ import annotations

import os
from typing import Any

from hoptrace import coldstart, export, output, record_scope, semconv
from hoptrace.config import Config
from hoptrace.engine import Engine, LinkTo, SpanRef
from hoptrace.plain import Plain
from hoptrace.propagation import from_lambda_environment
from hoptrace.redaction import capture
from hoptrace.triggers import Invocation, detect


class Active(Plain):
    """The invocation in flight: its trigger's facts, its span, the context token, its records' spans by message id."""

    __slots__ = _fields = ("invocation", "span", "token", "records")
    invocation: Invocation
    span: SpanRef
    token: object
    records: dict[str, SpanRef]

    def __init__(self, invocation: Invocation, span: SpanRef, token: object,
                 records: dict[str, SpanRef] | None = None) -> None:
        self.invocation = invocation
        self.span = span
        self.token = token
        self.records = {} if records is None else records


def start(engine: Engine, config: Config, event: Any, lambda_context: Any) -> Active:
    started = engine.clock()  # the span covers our own work too (a first invocation may import its trigger)
    engine.bridge_user_api()
    invocation = detect(event, lambda_context, config)
    attributes = invocation.attributes
    parent, source = invocation.parent, None
    if parent is not None:
        source = parent.source
    elif not invocation.records or not any(r.parent for r in invocation.records):  # most have no records
        parent, problem = from_lambda_environment()
        if problem:
            invocation.problems.append(problem)
        source = "lambda-env" if parent else None
    attributes[semconv.CONTEXT_SOURCE] = source or "none"
    if invocation.problems:
        attributes[semconv.CONTEXT_PROBLEMS] = invocation.problems[:10]
    request_id = getattr(lambda_context, "aws_request_id", None)
    if isinstance(request_id, str):
        attributes[semconv.FAAS_INVOCATION_ID] = request_id
    arn = getattr(lambda_context, "invoked_function_arn", None)
    if isinstance(arn, str):
        attributes.update(_ARNS.get(arn) or _arn_attributes(arn))
    cold = coldstart.take()
    if cold and coldstart.proactive():
        cold = False
        attributes[semconv.COLDSTART_PROACTIVE] = True
        attributes[semconv.INIT_TYPE] = coldstart.INIT_TYPE
    attributes[semconv.FAAS_COLDSTART] = cold
    if config.capture_payload:
        attributes[semconv.EVENT_PAYLOAD] = capture(event, config.redacted_keys, config.redacted_headers,
                                                    config.payload_max_bytes)
    links = []
    if parent is None:
        links = [(r.parent.trace_id, r.parent.span_id, {semconv.MESSAGING_MESSAGE_ID: r.message_id})
                 for r in invocation.records if r.parent is not None and r.parent.span_id is not None]
    span = engine.start_span(invocation.name, invocation.kind, parent=parent, attributes=attributes, links=links,
                             start_ns=started)
    if cold:
        _init_span(engine, span)
    token = engine.activate(span)
    active = Active(invocation, span, token)
    if invocation.records:
        _start_records(engine, active)
        if parent is None and links:  # records from several traces: let each one's work join its own trace
            record_scope.open(event, active.records, span)
    return active


# invoked ARN -> its attributes: a function is invoked through one ARN or a few (its aliases), so this is
# worked out once per ARN, not per invocation. Read only.
_ARNS: dict[str, dict[str, str]] = {}


def _arn_attributes(arn: str) -> dict[str, str]:
    """The invoked ARN's attributes, kept in `_ARNS` (for the first 64 ARNs)."""
    attributes: dict[str, str] = {}
    if len(_ARNS) < 64:
        _ARNS[arn] = attributes
    parts = arn.split(":")
    # OpenTelemetry's cloud.resource_id is the unqualified function ARN; the version is faas.version
    # (a resource attribute), an alias goes in its own attribute.
    if len(parts) > 7 and parts[5] == "function":
        qualifier = parts[7]
        attributes[semconv.CLOUD_RESOURCE_ID] = ":".join(parts[:7])
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            attributes[semconv.FAAS_ALIAS] = qualifier
    else:
        attributes[semconv.CLOUD_RESOURCE_ID] = arn
    if len(parts) > 4:
        attributes[semconv.CLOUD_ACCOUNT_ID] = parts[4]
    return attributes


def _init_span(engine: Engine, span: SpanRef) -> None:
    """The cold start's init as its own segment, so a waterfall shows what the request paid."""
    attributes_init: dict[str, Any] = {semconv.INIT_TYPE: coldstart.INIT_TYPE}
    span.set_attribute(semconv.INIT_TYPE, coldstart.INIT_TYPE)
    if not coldstart.paid_by_request():
        return
    start_ns = coldstart.PROCESS_START_NS
    end_ns = engine.start_time(span)
    init_ms = round((end_ns - start_ns) / 1e6, 3)
    span.set_attribute(semconv.INIT_DURATION_MS, init_ms)
    attributes_init[semconv.INIT_DURATION_MS] = init_ms
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "function"
    init = engine.start_span(f"init {name}", "internal", parent=span, attributes=attributes_init, start_ns=start_ns)
    for module, began, ended in coldstart.imports():
        engine.start_span(f"import {module}", "internal", parent=init, start_ns=began,
                          attributes={semconv.INIT_IMPORT_MODULE: module}).end(ended)
    init.end(end_ns)


def _start_records(engine: Engine, active: Active) -> None:
    span = active.span
    own_link: list[LinkTo] = [(span.trace_id, span.span_id, {})]
    continued = active.invocation.parent is not None
    for record in active.invocation.records:
        carried = record.parent
        links = own_link
        if continued or carried is None or carried.span_id is None:
            parent: Any = span
            if carried is not None and carried.span_id is not None:
                links = [(carried.trace_id, carried.span_id, {})]
        else:
            parent = carried
        record_span = engine.start_span(record.name, "consumer", parent=parent, attributes=record.attributes,
                                        links=links)
        active.records.setdefault(record.message_id, record_span)


def finish(engine: Engine, config: Config, active: Active, result: Any, error: BaseException | None,
           resource: dict[str, Any], limits: output.OutputLimits = output.DEFAULT_LIMITS) -> None:
    span = active.span
    try:
        if error is not None:
            span.record_exception(error, escaped=True)
            span.set_status("error", _error_message(error))
        elif (active.invocation.is_http or active.records) and isinstance(result, dict):
            _response(active, result)  # an HTTP status, or records reported in batchItemFailures
        if config.capture_payload and error is None:
            span.set_attribute(semconv.RESPONSE_PAYLOAD, capture(result, config.redacted_keys,
                                                                 config.redacted_headers, config.payload_max_bytes))
    finally:
        if active.records:  # only an invocation with records opens the scope
            record_scope.close()
            for record_span in active.records.values():
                record_span.end()
        span.end()
        engine.deactivate(active.token)
        export.write(engine.drain(), resource, config.otlp_endpoint, config.otlp_timeout_s, limits)


def _error_message(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # a broken __str__ of the user's exception is still their exception
        text = "<unprintable>"
    return f"{type(error).__name__}: {text}"[:1024]


def _response(active: Active, result: dict[str, Any]) -> None:
    span = active.span
    status = result.get("statusCode")
    if active.invocation.is_http and type(status) is int:
        span.set_attribute(semconv.HTTP_STATUS, status)
        if status >= 500:
            span.set_status("error", f"HTTP {status}")
    failures = result.get("batchItemFailures")
    if active.records and failures:  # None, [] and {} report a complete success, as Lambda reads them
        _batch_failures(active, failures)


# Event sources whose batch Lambda retries from the lowest failed record on (a shard's checkpoint), not record by
# record as it does SQS messages.
_CHECKPOINTED = frozenset({semconv.TRIGGER_KINESIS, semconv.TRIGGER_DYNAMODB})


def _batch_failures(active: Active, failures: Any) -> None:
    """Mark what Lambda will retry: the records named, or every record when the response names one wrongly.

    Lambda reads a partial batch response strictly: an entry without a string `itemIdentifier` of a record
    in the batch (empty, null, another type, a message of another batch) makes the whole batch a failure,
    and so does a `batchItemFailures` that is not a list. The span says which, so "why was everything
    retried?" has its answer beside the records."""
    records = active.records
    named: list[str] = []
    wrong: str | None = None
    if not isinstance(failures, list):
        wrong = f"batchItemFailures as {type(failures).__name__}, not a list"
    for failure in failures if wrong is None else ():
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if type(identifier) is str and identifier in records:
            named.append(identifier)
            continue
        wrong = ("an entry that is not an object" if not isinstance(failure, dict) else
                 "an entry without itemIdentifier" if "itemIdentifier" not in failure else
                 "a null itemIdentifier" if identifier is None else "an empty itemIdentifier" if identifier == "" else
                 f"the itemIdentifier {str(identifier)[:64]!r}, not a record of this batch")
        break
    failed = list(records) if wrong is not None else list(dict.fromkeys(named))
    for message_id in failed:
        record_span = records[message_id]
        record_span.set_attribute(semconv.BATCH_ITEM_FAILED, True)
        record_span.set_status("error", "reported in batchItemFailures" if wrong is None else
                               "the whole batch failed: its partial batch response was invalid")
    span = active.span
    span.set_attribute(semconv.BATCH_ITEM_FAILURES, len(failed))
    if wrong is not None:
        span.set_status("error", f"all {len(records)} records failed: the handler returned {wrong} in "
                                 "batchItemFailures, which Lambda reads as the whole batch failing")
        return
    which = ", ".join(failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
    message = (f"{len(failed)} of {len(records)} records failed: the handler returned {which or 'them'} in "
               "batchItemFailures")
    if active.invocation.trigger in _CHECKPOINTED:
        order = list(records)
        first = min(order.index(message_id) for message_id in failed)
        retried = len(order) - first
        message += f"; Lambda retries the shard from {order[first]} ({retried} record{'s' if retried > 1 else ''})"
    span.set_status("error", message)
