"""AWS SDK calls: one wrap of botocore's `BaseClient._make_api_call` makes the client span and injects.

The span carries OpenTelemetry's AWS SDK conventions (`rpc.system=aws-api`, `rpc.service`,
`rpc.method`, `cloud.region`, `aws.request_id`, the HTTP status, retries, the error code) plus
what each service's module in `SERVICES` adds from the request and the response (queue, topic,
bus, table, bucket/key, function, state machine, message ids: what links a producer to its
consumer). For the calls in `INJECTORS` the same module writes the span's context into the
request, so the parent the consumer sees is this very span.

The per-call cost is kept to a dict lookup for what never changes per client and operation
(span name, kind, service module, injector) and the span itself. Every step on our side is
guarded: botocore's result or exception passes through untouched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from hoptrace import health, record_scope, semconv
from hoptrace.engine import Engine
from hoptrace.outbound import late_body
from hoptrace.outbound.late_body import PENDING
from hoptrace.outbound.suppression import IN_AWS_CALL
from hoptrace.propagation import format_traceparent, format_xray

Injector = Callable[[dict[str, Any], str, str], None]

# botocore's service name -> the module (under `hoptrace.outbound`) with `request_attributes` /
# `response_attributes` for it, imported on the first call to that service: a function pays only for
# the services it uses, and at its first call, not at init.
SERVICES: dict[str, str] = {
    "sqs": "sqs",
    "sns": "sns",
    "events": "events",
    "lambda": "lmbd",
    "dynamodb": "dynamodb",
    "s3": "s3",
    "kinesis": "kinesis",
    "stepfunctions": "stepfunctions",
}
# (service, operation) -> the injector's name in the service's module.
INJECTORS: dict[tuple[str, str], str] = {
    ("sqs", "SendMessage"): "send_message",
    ("sqs", "SendMessageBatch"): "send_message_batch",
    ("sns", "Publish"): "publish",
    ("sns", "PublishBatch"): "publish_batch",
    ("events", "PutEvents"): "put_events",
    ("lambda", "Invoke"): "invoke",
    ("stepfunctions", "StartExecution"): "start_execution",
    ("stepfunctions", "StartSyncExecution"): "start_sync_execution",
}
# (service, operation) -> (protocol, the injector that returns its carrier as members of the serialised
# body instead: `late_body`), used when the client speaks that protocol; else the one in INJECTORS.
LATE_INJECTORS: dict[tuple[str, str], tuple[str, str]] = {("sqs", "SendMessage"): ("json", "send_message_member"),
                                                          ("sns", "Publish"): ("query", "publish_members")}
# The injectors that write the X-Ray form too (the others are handed ""; formatting it costs per call).
XRAY_INJECTED = frozenset({("events", "PutEvents"), ("stepfunctions", "StartExecution"),
                           ("stepfunctions", "StartSyncExecution")})
# Sends that hand a message to a consumer are producer spans (messaging conventions); the rest client.
PRODUCERS = frozenset({("sqs", "SendMessage"), ("sqs", "SendMessageBatch"), ("sns", "Publish"),
                       ("sns", "PublishBatch"), ("events", "PutEvents"), ("kinesis", "PutRecord"),
                       ("kinesis", "PutRecords")})
# (span name, kind, the span's first attributes (never changed: copied per call), service module, injector,
# X-Ray too)
Facts = tuple[str, str, dict[str, Any], "ModuleType | None", "Injector | None", bool]
_REGION = semconv.CLOUD_REGION

_original: Any = None
_engine: Any = None
_calls: dict[tuple[Any, str], Facts] = {}


def _call_facts(meta: Any, operation: str) -> Facts:
    """(span name, kind, fixed attributes, service module, injector, X-Ray too) for one client's operation, once."""
    key = (meta.service_model, operation)
    facts = _calls.get(key)
    if facts is None:
        model = meta.service_model
        service, service_id = model.service_name, str(model.service_id)
        kind = "producer" if (service, operation) in PRODUCERS else "client"
        name = SERVICES.get(service)
        module = importlib.import_module(f"hoptrace.outbound.{name}") if name else None
        injector_name = INJECTORS.get((service, operation))
        protocol, late_name = LATE_INJECTORS.get((service, operation), ("", ""))
        if model.protocol == protocol:
            injector_name = late_name
        injector = getattr(module, injector_name) if module is not None and injector_name else None
        fixed = {semconv.RPC_SYSTEM: "aws-api", semconv.RPC_SERVICE: service_id, semconv.RPC_METHOD: operation}
        facts = (f"{service_id}.{operation}", kind, fixed, module, injector, (service, operation) in XRAY_INJECTED)
        if len(_calls) < 4096:
            _calls[key] = facts
    return facts


def _start(client: Any, operation: str, params: Any) -> Any:
    engine = _engine
    parent = record_scope.parent(engine.current(), 3)
    if parent is None:
        return None  # at init, outside any invocation: nothing to join
    meta = client.meta
    name, kind, fixed, module, injector, xray = _call_facts(meta, operation)
    attributes = fixed.copy()
    attributes[_REGION] = meta.region_name
    if module is not None and (type(params) is dict or isinstance(params, Mapping)):
        try:
            attributes.update(module.request_attributes(operation, params))
        except Exception as error:
            health.swallow(f"aws.attributes.{operation}", error)
    span = engine.start_span(name, kind, parent=parent, attributes=attributes)
    member = None
    if injector is not None and isinstance(params, dict):
        try:
            trace_id, span_id, sampled = span.trace_id, span.span_id, span.sampled
            member = injector(params, format_traceparent(trace_id, span_id, sampled),
                              format_xray(trace_id, span_id, sampled) if xray else "")
            if member is not None:
                PENDING.set(member)  # taken by this call's serialised body (`late_body`)
        except Exception as error:
            health.swallow(f"inject.{operation}", error)
    return span, module, member


def _finish(span: Any, module: ModuleType | None, operation: str, params: Any, response: Any,
            error: BaseException | None) -> None:
    if type(response) is dict or isinstance(response, Mapping):  # botocore's is a dict: no ABC check
        metadata = response.get("ResponseMetadata")
        if type(metadata) is dict or isinstance(metadata, Mapping):
            _metadata(span, metadata)
        if module is not None and error is None:
            for key, value in module.response_attributes(operation, params, response).items():
                span.set_attribute(key, value)
    if error is not None:
        code = _error_code(response)
        if code:
            span.set_attribute(semconv.ERROR_TYPE, code)
        span.record_exception(error, escaped=True)
        span.set_status("error", f"{type(error).__name__}: {error}"[:1024])
    span.end()


def _metadata(span: Any, metadata: Mapping[str, Any]) -> None:
    request_id = metadata.get("RequestId")
    if not request_id:
        headers = metadata.get("HTTPHeaders") or {}
        request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    if request_id:
        span.set_attribute(semconv.AWS_REQUEST_ID, request_id)
    retries = metadata.get("RetryAttempts")
    if retries:
        span.set_attribute(semconv.AWS_RETRY_ATTEMPTS, retries)
    status = metadata.get("HTTPStatusCode")
    if status is not None:
        span.set_attribute(semconv.HTTP_STATUS, status)


def _error_code(response: Any) -> str | None:
    error = response.get("Error") if isinstance(response, Mapping) else None
    code = error.get("Code") if isinstance(error, Mapping) else None
    return str(code) if code else None


def install(engine: Engine) -> None:
    """Wrap `BaseClient._make_api_call` once (every client, made before or after, goes through it)."""
    global _original, _engine
    _engine = engine
    if _original is not None:
        return
    from botocore.client import BaseClient

    original = _original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        try:
            started = _start(self, operation_name, api_params)
        except Exception as error:
            health.swallow("aws.start", error)
            started = None
        if started is None:
            return original(self, operation_name, api_params)
        token = IN_AWS_CALL.set(True)
        try:
            result = original(self, operation_name, api_params)
        except BaseException as error:
            IN_AWS_CALL.reset(token)
            if started[2] is not None:
                PENDING.set(None)  # the call failed before its body was made: no later call may take it
            _safe_finish(started, operation_name, api_params, getattr(error, "response", None), error)
            raise
        IN_AWS_CALL.reset(token)
        _safe_finish(started, operation_name, api_params, result, None)
        return result

    _make_api_call.__hoptrace_original__ = original  # type: ignore[attr-defined]  # a marker on our function
    BaseClient._make_api_call = _make_api_call
    late_body.install()


def _safe_finish(started: Any, operation: str, params: Any, response: Any, error: BaseException | None) -> None:
    span, module, _ = started
    try:
        _finish(span, module, operation, params, response, error)
    except Exception as failure:
        health.swallow(f"aws.finish.{operation}", failure)
        span.end()


def uninstall() -> None:
    """Put botocore back as it was (tests; a function that wants the hook off at run time)."""
    global _original
    if _original is None:
        return
    from botocore.client import BaseClient

    BaseClient._make_api_call = _original
    _original = None
    late_body.uninstall()
    _calls.clear()
