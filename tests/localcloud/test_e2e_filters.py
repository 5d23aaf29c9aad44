"""`FilterCriteria` end to end: only matching messages and records reach the function. SQS messages no filter
matches are deleted from the queue without an invocation; stream records no filter matches are skipped (the
reader moves past them), as Lambda does: DynamoDB records matched on `eventName` and typed `NewImage` values,
Kinesis records on their `data` decoded as JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import APPS, FAST

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(APPS / "filters" / "template.yaml", FAST) as running:
        yield running


def _queue_empty(cloud: LocalCloud, logical_id: str) -> bool:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.resource(logical_id).url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def _got(cloud: LocalCloud, function: str) -> list[str]:
    return [line for line in cloud.log_lines(function) if line.startswith("GOT ")]


def test_the_filters_are_applied_without_warnings(cloud: LocalCloud) -> None:
    assert cloud.warnings == []


def test_only_matching_messages_are_delivered_and_the_rest_deleted(cloud: LocalCloud) -> None:
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
    assert sorted(_got(cloud, "BigOrders")) == sorted([f"GOT {bodies['big']}", "GOT URGENT call me"])


def test_dynamodb_stream_records_are_filtered_on_event_name_and_new_image(cloud: LocalCloud) -> None:
    dynamodb, table = cloud.client("dynamodb"), cloud.resource("Payments").ref
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-1"}, "status": {"S": "NEW"}})  # INSERT, not paid
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-2"}, "status": {"S": "PAID"}})  # INSERT, paid
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-1"}, "status": {"S": "PAID"}})  # MODIFY, paid
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "p-2"}})  # REMOVE
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-3"}, "status": {"S": "PAID"}})  # the last one
    # records of a shard are read in order: once the last one is delivered, the skipped ones were passed over
    cloud.wait_for_log("PaidPayments", "GOT INSERT p-3", timeout=40)
    assert _got(cloud, "PaidPayments") == ["GOT INSERT p-2", "GOT MODIFY p-1", "GOT INSERT p-3"]


def test_kinesis_records_are_filtered_on_their_data_decoded_as_json(cloud: LocalCloud) -> None:
    kinesis = cloud.client("kinesis")
    datas = [{"ms": 5}, {"ms": 1500}, "not json at all", {"ms": "2000"}, {"ms": 1000}]
    kinesis.put_records(StreamName=cloud.resource("Clicks").ref, Records=[
        {"Data": (d if isinstance(d, str) else json.dumps(d)).encode(), "PartitionKey": "k"} for d in datas])
    cloud.wait_for_log("SlowClicks", 'GOT {"ms": 1000}', timeout=40)
    assert _got(cloud, "SlowClicks") == ['GOT {"ms": 1500}', 'GOT {"ms": 1000}']
