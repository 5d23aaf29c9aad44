"""EventBridge delivered by the local cloud: a rule's SNS, SQS (InputTransformer) and event-bus targets, a
function behind the second bus, EventBridge Scheduler (ScheduleV2 to an InlineCode function, a schedule to SQS,
a failing target retried and dead-lettered), secrets and SSM parameters, and an environment where one
unresolvable value drops only itself."""

from __future__ import annotations

import json

import pytest

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import APPS, FAST, receive_one

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud():
    with LocalCloud(APPS / "eventbridge" / "template.yaml", FAST) as running:
        yield running


def test_only_the_unsupported_pieces_warn(cloud):
    assert sorted(w.split(":")[0] for w in cloud.warnings) == ["Ticker.Environment.Variables.BROKEN",
                                                                "Unsupported.Type"]


def test_put_events_reaches_sns_sqs_and_another_bus_without_failing_the_producer(cloud):
    response = cloud.client("events").put_events(Entries=[{
        "Source": "shop.orders", "DetailType": "OrderShipped", "EventBusName": "app-bus",
        "Detail": json.dumps({"orderId": "o-7", "total": 12.5})}])
    assert response["FailedEntryCount"] == 0
    # SNS target -> the topic's inline SQS subscription (no warning for it): the SNS envelope of the event
    envelope = json.loads(receive_one(cloud, "AlertsInbox")["Body"])
    assert envelope["Type"] == "Notification"
    assert json.loads(envelope["Message"])["detail"] == {"orderId": "o-7", "total": 12.5}
    # SQS target with an InputTransformer
    assert json.loads(receive_one(cloud, "Shipped")["Body"]) == {"order": "o-7", "text": "order o-7 shipped",
                                                                 "total": 12.5}
    # event-bus target -> a rule on the audit bus -> the function
    line = cloud.wait_for_log("Auditor", "AUDIT ", timeout=30).message
    assert json.loads(line.split("AUDIT ", 1)[1]) == {"source": "shop.orders",
                                                      "detail": {"orderId": "o-7", "total": 12.5}}


def test_scheduler_fires_inline_code_with_resolved_environment(cloud):
    line = cloud.wait_for_log("Ticker", "TICK ", timeout=30).message
    assert "TICK aws.scheduler blue arn:aws:secretsmanager:us-" in line
    assert "wrapper=kept missing=False" in line
    secret = cloud.client("secretsmanager").get_secret_value(SecretId=cloud.resource("ApiKey").ref)
    assert set(json.loads(secret["SecretString"])) == {"user", "password"}


def test_scheduler_input_reaches_sqs_and_a_failing_target_is_dead_lettered(cloud):
    assert json.loads(receive_one(cloud, "ScheduledInbox", timeout=30)["Body"]) == {"report": "daily"}
    dead = receive_one(cloud, "SchedulerDLQ", timeout=30)
    assert json.loads(dead["Body"]) == {"lost": True}
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attributes["X-Amz-Scheduler-Attempt"] == "2"
    assert attributes["TARGET_ARN"].endswith(":no-such-queue")
