"""Each trigger module on events shaped exactly like AWS's (tests/events/*.json)."""

from __future__ import annotations

import pytest

from hoptrace.config import Config
from hoptrace.triggers import detect
from tests.conftest import ClientContext, LambdaContext, load_event

TP_TRACE = int("5759e988bd862e3fe1be46a994272793", 16)
TP_SPAN = int("53995c3f42cd8ad8", 16)
CONFIG = Config()


def inv(name: str, context: LambdaContext | None = None):
    return detect(load_event(name), context or LambdaContext(), CONFIG)


@pytest.mark.parametrize(
    ("fixture", "trigger", "span_name", "kind"),
    [
        ("apigateway_v1", "apigateway", "GET /orders/{id}", "server"),
        ("apigateway_v2", "apigateway_http", "POST /orders", "server"),
        ("function_url", "function_url", "GET /my/path", "server"),
        ("alb", "alb", "GET /lambda", "server"),
        ("sns", "sns", "process orders-topic", "consumer"),
        ("sqs", "sqs", "process payments-queue", "consumer"),
        ("sqs_sns_envelope", "sqs", "process payments-queue", "consumer"),
        ("eventbridge", "eventbridge", "process PaymentSucceeded", "consumer"),
        ("scheduled", "schedule", "schedule reports-every-minute", "server"),
        ("cloudwatch_logs", "cloudwatch_logs", "process log batch", "consumer"),
        ("direct_invoke", "invoke", "orders", "server"),
    ],
)
def test_each_event_shape_is_recognised(fixture: str, trigger: str, span_name: str, kind: str) -> None:
    # GIVEN an event as AWS delivers it / WHEN detected
    invocation = inv(fixture)
    # THEN the right trigger claims it, with the span name and kind a reader expects
    assert (invocation.trigger, invocation.name, invocation.kind) == (trigger, span_name, kind)
    assert invocation.attributes["hoptrace.trigger"] == trigger


def test_rest_api_prefers_traceparent_over_xray_and_redacts_query() -> None:
    invocation = inv("apigateway_v1")
    assert invocation.parent is not None
    assert (invocation.parent.trace_id, invocation.parent.span_id) == (TP_TRACE, TP_SPAN)
    assert invocation.parent.source == "apigateway.headers"
    attributes = invocation.attributes
    assert attributes["http.request.method"] == "GET" and attributes["http.route"] == "/orders/{id}"
    assert attributes["url.path"] == "/orders/42" and attributes["client.address"] == "203.0.113.9"
    assert "qs-secret" not in attributes["url.query"] and "expand=items" in attributes["url.query"]
    assert not any("secret" in str(v) or "key-123" in str(v) for v in attributes.values())


def test_http_api_uses_xray_header_when_no_traceparent() -> None:
    invocation = inv("apigateway_v2")
    assert invocation.parent is not None and invocation.parent.source == "apigateway_http.headers"
    assert invocation.parent.trace_id == TP_TRACE and invocation.parent.sampled is True
    assert invocation.attributes["url.query"] == "dry_run=1&token=[REDACTED]"


def test_alb_root_only_xray_header_keeps_trace_without_parent_span() -> None:
    invocation = inv("alb")
    assert invocation.parent is not None and invocation.parent.span_id is None
    assert invocation.parent.trace_id == TP_TRACE


def test_header_names_are_case_insensitive() -> None:
    event = load_event("apigateway_v1")
    event["headers"] = {"TraceParent": event["headers"]["traceparent"]}
    invocation = detect(event, LambdaContext(), CONFIG)
    assert invocation.parent is not None and invocation.parent.trace_id == TP_TRACE


def test_sns_record_carries_traceparent_and_queue_wait() -> None:
    invocation = inv("sns")
    assert invocation.parent is not None and invocation.parent.trace_id == TP_TRACE
    [record] = invocation.records
    assert record.message_id == "95df01b4-ee98-5cb9-9903-4c221d41eb5e"
    assert record.attributes["messaging.destination.name"] == "orders-topic"
    assert record.attributes["hoptrace.queue_wait_ms"] >= 0


@pytest.mark.parametrize("fixture", ["sqs", "sqs_sns_envelope", "sqs_sns_raw", "sqs_eventbridge"])
def test_sqs_finds_w3c_context_wherever_the_hop_put_it(fixture: str) -> None:
    # GIVEN an SQS message that came directly, through SNS (enveloped or raw) or through EventBridge
    invocation = inv(fixture)
    # THEN the W3C context wins over AWSTraceHeader, and the hop it came through is recorded
    assert invocation.parent is not None
    assert (invocation.parent.trace_id, invocation.parent.span_id) == (TP_TRACE, TP_SPAN)
    assert invocation.parent.source in {"sqs.messageAttributes", "sns-envelope", "eventbridge-envelope"}


def test_sqs_envelope_records_upstream_hop() -> None:
    assert inv("sqs_sns_envelope").records[0].attributes["hoptrace.upstream"] == "sns:orders-topic"
    assert inv("sqs_eventbridge").records[0].attributes["hoptrace.upstream"] == "eventbridge:shop.payments"


def test_sqs_falls_back_to_aws_trace_header() -> None:
    invocation = inv("sqs_xray_only")
    assert invocation.parent is not None and invocation.parent.source == "sqs.AWSTraceHeader"
    assert invocation.parent.trace_id == TP_TRACE


def test_mixed_batch_has_no_single_parent_but_each_record_keeps_its_own() -> None:
    invocation = inv("sqs_mixed_batch")
    assert invocation.parent is None
    parents = [r.parent.trace_id if r.parent else None for r in invocation.records]
    assert parents[0] == TP_TRACE and parents[1] != TP_TRACE and parents[2] is None
    assert invocation.records[2].attributes["hoptrace.sqs.receive_count"] == 3
    assert invocation.attributes["messaging.batch.message_count"] == 3


def test_garbage_headers_are_reported_not_raised() -> None:
    invocation = inv("sqs_bad_headers")
    assert invocation.parent is None
    assert any("traceparent" in p for p in invocation.problems)
    assert any("X-Ray" in p for p in invocation.problems)


def test_malformed_api_event_is_still_an_http_invocation() -> None:
    invocation = inv("apigateway_v1_malformed")
    assert invocation.trigger == "apigateway" and invocation.parent is None
    assert any("all-zero" in p for p in invocation.problems)


def test_eventbridge_reads_reserved_detail_key() -> None:
    invocation = inv("eventbridge")
    assert invocation.parent is not None and invocation.parent.source == "eventbridge.detail"
    assert invocation.attributes["hoptrace.eventbridge.source"] == "shop.payments"


def test_scheduled_event_starts_a_new_trace() -> None:
    invocation = inv("scheduled")
    assert invocation.parent is None and invocation.attributes["faas.trigger"] == "timer"


def test_direct_invoke_reads_client_context_custom() -> None:
    context = LambdaContext(client_context=ClientContext(custom={"traceparent": load_event("sqs")["Records"][0][
        "messageAttributes"]["traceparent"]["stringValue"]}))
    invocation = inv("direct_invoke", context)
    assert invocation.parent is not None and invocation.parent.source == "invoke.ClientContext"


def test_async_invoke_reads_reserved_payload_key() -> None:
    event = {"order_id": "1", "_hoptrace": {"traceparent": "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"}}
    invocation = detect(event, LambdaContext(), CONFIG)
    assert invocation.parent is not None and invocation.parent.source == "invoke.payload"


@pytest.mark.parametrize("event", [None, [], "text", 42, {"Records": []}, {"Records": ["x"]}, {"requestContext": 1}])
def test_unknown_shapes_are_generic_invocations(event: object) -> None:
    invocation = detect(event, None, CONFIG)
    assert invocation.trigger == "invoke" and invocation.parent is None
