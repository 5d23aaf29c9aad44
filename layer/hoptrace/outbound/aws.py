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

import _thread
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from hoptrace import health, record_scope, semconv
from hoptrace.engine import Engine
from hoptrace.outbound import late_body
from hoptrace.outbound.late_body import PENDING
from hoptrace.outbound.suppression import IN_AWS_CALL
from hoptrace.propagation import format_xray

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
# [span name, kind, the span's first attributes (the fixed `rpc.*` ones and the client's region; never changed),
# service module, injector, X-Ray too, the prepared attributes: id(the service module's request attributes) ->
# (them, the engine, its `prepared_attributes` of the first and them), the parameter the module's request
# attributes depend on alone for this operation (its `KEYED_BY`) or None]. A service module that returns the
# same (cached, never changed) dict for the same request, as SQS does per queue, gets a span whose attributes
# the engine neither merges nor checks again; one that names its key parameter is not even asked, once its
# attributes for that value are prepared (they are kept under the value too).
Facts = list[Any]
_FACTS = "_hoptrace_calls"  # on each client's `meta`: operation -> its Facts (they die with the client)
_MAX_OPERATIONS = 512
_MAX_PREPARED = 16  # per client and operation: the queues (topics, ...) one function sends to

_original: Any = None
_engine: Any = None


def _call_facts(client: Any, operation: str) -> Facts:
    """(span name, kind, first attributes, service module, injector, X-Ray too) for one client's operation, once."""
    meta = client.meta
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
    first = {semconv.RPC_SYSTEM: "aws-api", semconv.RPC_SERVICE: service_id, semconv.RPC_METHOD: operation,
             semconv.CLOUD_REGION: meta.region_name}
    keyed = getattr(module, "KEYED_BY", {}).get(operation)
    facts = [f"{service_id}.{operation}", kind, first, module, injector, (service, operation) in XRAY_INJECTED, {},
             keyed]
    calls = meta.__dict__.setdefault(_FACTS, {})
    if len(calls) < _MAX_OPERATIONS:
        calls[operation] = facts
    return facts


def _finish(span: Any, module: Any, operation: str, params: Any, response: Any, error: BaseException | None) -> None:
    """The response's attributes (in one `set_attributes`), the error if any, and the span's end; never raises."""
    try:
        attributes: dict[str, Any] = {}
        if type(response) is dict or isinstance(response, Mapping):  # botocore's is a dict: no ABC check
            metadata = response.get("ResponseMetadata")
            if type(metadata) is dict or isinstance(metadata, Mapping):
                request_id = metadata.get("RequestId")
                if not request_id:
                    headers = metadata.get("HTTPHeaders") or {}
                    request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
                if request_id:
                    attributes[semconv.AWS_REQUEST_ID] = request_id
                retries = metadata.get("RetryAttempts")
                if retries:
                    attributes[semconv.AWS_RETRY_ATTEMPTS] = retries
                status = metadata.get("HTTPStatusCode")
                if status is not None:
                    attributes[semconv.HTTP_STATUS] = status
            if module is not None and error is None:
                attributes.update(module.response_attributes(operation, params, response))
        if error is not None:
            code = _error_code(response)
            if code:
                attributes[semconv.ERROR_TYPE] = code
        if attributes:
            span.set_attributes(attributes)
        if error is not None:
            span.record_exception(error, escaped=True)
            span.set_status("error", f"{type(error).__name__}: {error}"[:1024])
        span.end()
    except Exception as failure:
        health.swallow(f"aws.finish.{operation}", failure)
        span.end()


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
        # One function for the span's start (a Python call costs about 1,000 instructions here); every step
        # of ours is guarded, botocore's own call is made outside the guard.
        span = member = module = None
        try:
            engine = _engine
            parent = engine.current()
            if record_scope._scope is not None:  # a batch mixing traces: the record the caller works on
                parent = record_scope.parent(parent, 2)
            if parent is not None:  # else at init, outside any invocation: nothing to join
                calls = self.meta.__dict__.get(_FACTS)
                facts = calls.get(operation_name) if calls is not None else None
                if facts is None:
                    facts = _call_facts(self, operation_name)
                name, kind, first, module, injector, xray, prepared, keyed = facts
                key = api_params.get(keyed) if keyed is not None and type(api_params) is dict else None
                found = prepared.get(key) if type(key) is str else None
                if found is not None and found[1] is engine:  # prepared for this key's value already
                    attributes = found[2]
                else:
                    request = None
                    if module is not None and (type(api_params) is dict or isinstance(api_params, Mapping)):
                        try:
                            request = module.request_attributes(operation_name, api_params)
                        except Exception as error:
                            health.swallow(f"aws.attributes.{operation_name}", error)
                    found = prepared.get(id(request))
                    if found is not None and found[0] is request and found[1] is engine:
                        attributes = found[2]
                    else:
                        attributes = {**first, **request} if request else first
                        if len(prepared) < _MAX_PREPARED or found is not None:
                            attributes = engine.prepared_attributes(attributes)
                            prepared[id(request)] = (request, engine, attributes)
                            if type(key) is str:
                                prepared[key] = (request, engine, attributes)
                span = engine.start_span(name, kind, parent=parent, attributes=attributes)
                if injector is not None and (type(api_params) is dict or isinstance(api_params, dict)):
                    try:
                        member = injector(api_params, span.traceparent(),
                                          format_xray(span.trace_id, span.span_id, span.sampled) if xray else "")
                        if member is not None:
                            PENDING[_thread.get_ident()] = member  # taken by this call's body (`late_body`)
                    except Exception as error:
                        health.swallow(f"inject.{operation_name}", error)
        except Exception as error:
            health.swallow("aws.start", error)
            span = None
        if span is None:
            return original(self, operation_name, api_params)
        ident = _thread.get_ident()  # looked up per call: gevent's patch makes it the greenlet's
        nested = ident in IN_AWS_CALL
        if not nested:
            IN_AWS_CALL.add(ident)
        try:
            result = original(self, operation_name, api_params)
        except BaseException as error:
            if not nested:
                IN_AWS_CALL.discard(ident)
            if member is not None:
                PENDING.pop(ident, None)  # the call failed before its body was made: no later call may take it
            _finish(span, module, operation_name, api_params, getattr(error, "response", None), error)
            raise
        if not nested:
            IN_AWS_CALL.discard(ident)
        _finish(span, module, operation_name, api_params, result, None)  # a pending member was taken by the body
        return result

    _make_api_call.__hoptrace_original__ = original  # type: ignore[attr-defined]  # a marker on our function
    BaseClient._make_api_call = _make_api_call
    late_body.install()


def uninstall() -> None:
    """Put botocore back as it was (tests; a function that wants the hook off at run time)."""
    global _original
    if _original is None:
        return
    from botocore.client import BaseClient

    BaseClient._make_api_call = _original
    _original = None
    late_body.uninstall()
