"""EventBridge delivered by the local cloud: a rule's SNS, SQS (InputTransformer) and event-bus targets, a
function behind the second bus, EventBridge Scheduler (ScheduleV2 to an InlineCode function, a schedule to SQS,
a failing target retried and dead-lettered), secrets and SSM parameters, and an environment where one
unresolvable value drops only itself. Every function is traced: its invocation span reaches the collector's
store with its trigger, and the function behind the rules is in the trace of the producer's PutEvents."""

from __future__ import annotations

import json

import pytest

from hoptrace import semconv
from hoptrace.protocol import CARRIER_KEY

from .conftest import receive_one, traced_fixtures
from .traced import client_spans, invocation_of

pytestmark = pytest.mark.e2e


def untraced(detail: dict) -> dict:
    """The event's detail without the trace context the traced producer's PutEvents carries in it."""
    assert CARRIER_KEY in detail
    return {k: v for k, v in detail.items() if k != CARRIER_KEY}


traced, cloud = traced_fixtures("eventbridge")


def test_only_the_unsupported_pieces_warn(cloud):
    assert sorted(w.split(":")[0] for w in cloud.warnings) == ["Ticker.Environment.Variables.BROKEN",
                                                                "Unsupported.Type"]


def test_put_events_reaches_sns_sqs_and_another_bus_without_failing_the_producer(traced):
    cloud, store = traced
    shipped = cloud.invoke("Shipper", {"orderId": "o-7", "total": 12.5})  # a traced producer's PutEvents
    assert (shipped.payload, shipped.error) == (0, None)
    # SNS target -> the topic's inline SQS subscription (no warning for it): the SNS envelope of the event
    envelope = json.loads(receive_one(cloud, "AlertsInbox")["Body"])
    assert envelope["Type"] == "Notification"
    assert untraced(json.loads(envelope["Message"])["detail"]) == {"orderId": "o-7", "total": 12.5}
    # SQS target with an InputTransformer
    assert json.loads(receive_one(cloud, "Shipped")["Body"]) == {"order": "o-7", "text": "order o-7 shipped",
                                                                 "total": 12.5}
    # event-bus target -> a rule on the audit bus -> the function
    line = cloud.wait_for_log("Auditor", "AUDIT ", timeout=30).message
    audited = json.loads(line.split("AUDIT ", 1)[1])
    assert (audited["source"], untraced(audited["detail"])) == ("shop.orders", {"orderId": "o-7", "total": 12.5})
    # AND the auditor's invocation is in the producer's trace, a child of its PutEvents span
    [producer] = store.invocations("Shipper", semconv.TRIGGER_INVOKE)
    auditor = cloud.function("Auditor").spec.name
    spans = store.trace_with(producer.trace_id, lambda spans: bool(
        invocation_of(spans, auditor, semconv.TRIGGER_EVENTBRIDGE)), "the auditor in the producer's trace")
    [invocation] = invocation_of(spans, auditor, semconv.TRIGGER_EVENTBRIDGE)
    [put_events] = client_spans(spans, producer.function, "PutEvents")
    assert invocation.parent_id == put_events.span_id


def test_scheduler_fires_inline_code_with_resolved_environment(traced):
    cloud, store = traced
    line = cloud.wait_for_log("Ticker", "TICK ", timeout=30).message
    assert "TICK aws.scheduler blue arn:aws:secretsmanager:us-" in line
    assert "wrapper=kept missing=False" in line
    secret = cloud.client("secretsmanager").get_secret_value(SecretId=cloud.resource("ApiKey").ref)
    assert set(json.loads(secret["SecretString"])) == {"user", "password"}
    # AND the InlineCode function, fired by Scheduler, is traced as a scheduled invocation
    assert store.invocations("Ticker", semconv.TRIGGER_SCHEDULE)


def test_scheduler_input_reaches_sqs_and_a_failing_target_is_dead_lettered(cloud):
    assert json.loads(receive_one(cloud, "ScheduledInbox", timeout=30)["Body"]) == {"report": "daily"}
    dead = receive_one(cloud, "SchedulerDLQ", timeout=30)
    assert json.loads(dead["Body"]) == {"lost": True}
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attributes["X-Amz-Scheduler-Attempt"] == "2"
    assert attributes["TARGET_ARN"].endswith(":no-such-queue")
