"""AWS SDK calls: client spans from the stock botocore instrumentation, context from us.

Our hook wraps `BaseClient._make_api_call` *before* the instrumentor does, so it runs
inside the client span and the injected parent is that span. The stock SNS and Lambda
extensions keep their attributes but their own injection is turned off: SNS's counts
propagator fields rather than what it writes, Lambda's rewrites the user's payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient
from opentelemetry import trace

from hoptrace import health
from hoptrace.outbound import dynamodb, events, kinesis, lmbd, s3, sns, sqs, stepfunctions
from hoptrace.propagation import format_traceparent, format_xray
from hoptrace.tracing import Tracing

Injector = Callable[[dict[str, Any], str, str], None]

INJECTORS: dict[tuple[str, str], Injector] = {
    ("sqs", "SendMessage"): sqs.send_message,
    ("sqs", "SendMessageBatch"): sqs.send_message_batch,
    ("sns", "Publish"): sns.publish,
    ("sns", "PublishBatch"): sns.publish_batch,
    ("events", "PutEvents"): events.put_events,
    ("lambda", "Invoke"): lmbd.invoke,
    ("stepfunctions", "StartExecution"): stepfunctions.start_execution,
    ("stepfunctions", "StartSyncExecution"): stepfunctions.start_sync_execution,
}
# Per-service attribute recorders: `request_attributes(operation, params)` before the call and
# `response_attributes(operation, params, response)` after it, set on the call's client span.
RECORDERS: dict[str, Any] = {"s3": s3, "dynamodb": dynamodb, "kinesis": kinesis, "stepfunctions": stepfunctions}
_installed = False


def _inject(client: Any, operation: str, params: Any) -> None:
    injector = INJECTORS.get((client.meta.service_model.service_name, operation))
    if injector is None or not isinstance(params, dict):
        return
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return  # called outside an invocation (at init): nothing to carry
    sampled = context.trace_flags.sampled
    injector(params, format_traceparent(context.trace_id, context.span_id, sampled),
             format_xray(context.trace_id, context.span_id, sampled))


def _record(recorder: Callable[..., dict[str, Any]], operation: str, *args: Any) -> None:
    """Attributes of one call onto its client span; never raises into the user's call."""
    try:
        if not all(isinstance(a, dict) for a in args):
            return
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(recorder(operation, *args))
    except Exception as error:
        health.swallow(f"record.{operation}", error)


def _quiet(loader: Callable[[], Any]) -> Callable[[], Any]:
    def load() -> Any:
        extension = loader()

        class AttributesOnly(extension):  # type: ignore[misc, valid-type]
            def before_service_call(self, *args: Any, **kwargs: Any) -> None:
                return None

        return AttributesOnly

    return load


def install(tracing: Tracing) -> None:
    global _installed
    if _installed:
        return
    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        try:
            _inject(self, operation_name, api_params)
        except Exception as error:
            health.swallow(f"inject.{operation_name}", error)
        recorder = RECORDERS.get(self.meta.service_model.service_name)
        if recorder is None:
            return original(self, operation_name, api_params)
        _record(recorder.request_attributes, operation_name, api_params)
        response = original(self, operation_name, api_params)
        _record(recorder.response_attributes, operation_name, api_params, response)
        return response

    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]

    import opentelemetry.instrumentation.botocore as stock
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    extensions = dict(stock._BOTOCORE_EXTENSIONS)
    for service in ("sns", "lambda"):
        if service in extensions:
            extensions[service] = _quiet(extensions[service])
    stock._BOTOCORE_EXTENSIONS = extensions
    BotocoreInstrumentor().instrument(tracer_provider=tracing.provider, skip_dep_check=True)
    _installed = True
