"""SQS `FilterCriteria` end to end: only matching messages reach the function; the others are deleted from the
queue without an invocation, as Lambda does."""

from __future__ import annotations

import json
import time

import pytest

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import APPS, FAST

pytestmark = pytest.mark.e2e


def _queue_empty(cloud: LocalCloud, logical_id: str) -> bool:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.resource(logical_id).url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_only_matching_messages_are_delivered_and_the_rest_deleted():
    with LocalCloud(APPS / "filters" / "template.yaml", FAST) as cloud:
        assert cloud.warnings == []
        sqs, url = cloud.client("sqs"), cloud.resource("Orders").url
        bodies = {
            "big": json.dumps({"kind": "order", "amount": 250}),
            "small": json.dumps({"kind": "order", "amount": 5}),
            "coupon": json.dumps({"kind": "order", "amount": 500, "coupon": "X"}),
            "refund": json.dumps({"kind": "refund", "amount": 900}),
            "urgent": "URGENT call me",
            "plain": "hello",
        }
        for body in bodies.values():
            sqs.send_message(QueueUrl=url, MessageBody=body)
        cloud.wait_for_log("BigOrders", f"GOT {bodies['big']}", timeout=30)
        cloud.wait_for_log("BigOrders", "GOT URGENT call me", timeout=30)
        deadline = time.monotonic() + 30
        while not _queue_empty(cloud, "Orders") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _queue_empty(cloud, "Orders"), "filtered-out messages must be deleted, not left to redrive"
        got = [line for line in cloud.log_lines("BigOrders") if line.startswith("GOT ")]
        assert sorted(got) == sorted([f"GOT {bodies['big']}", "GOT URGENT call me"])
