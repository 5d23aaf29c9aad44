"""`FilterCriteria` end to end: only matching messages and records reach the function. SQS messages no filter
matches are deleted from the queue without an invocation; stream records no filter matches are skipped (the
reader moves past them), as Lambda does: DynamoDB records matched on `eventName` and typed `NewImage` values,
Kinesis records on their `data` decoded as JSON. Each delivery is traced: the consumer's invocation span reaches
the collector's store with its trigger, and an SQS consumer's invocation is in the trace of the sender's
SendMessage."""

from __future__ import annotations

import json
import time

import pytest

from hoptrace import semconv
from hoptrace_localcloud.cloud import LocalCloud

from .conftest import traced_fixtures
from .traced import TracedStore, client_spans, invocation_of

pytestmark = pytest.mark.e2e


traced, cloud = traced_fixtures("filters")


def _queue_empty(cloud: LocalCloud, logical_id: str) -> bool:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.resource(logical_id).url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def _got(cloud: LocalCloud, function: str) -> list[str]:
    return [line for line in cloud.log_lines(function) if line.startswith("GOT ")]


def test_the_filters_are_applied_without_warnings(cloud: LocalCloud) -> None:
    assert cloud.warnings == []


def test_only_matching_messages_are_delivered_and_the_rest_deleted(traced: tuple[LocalCloud, TracedStore]) -> None:
    cloud, store = traced
    bodies = {
        "big": json.dumps({"kind": "order", "amount": 250}),
        "small": json.dumps({"kind": "order", "amount": 5}),
        "coupon": json.dumps({"kind": "order", "amount": 500, "coupon": "X"}),
        "refund": json.dumps({"kind": "refund", "amount": 900}),
        "urgent": "URGENT call me",
        "plain": "hello",
    }
    # WHEN a traced function sends them
    sent = cloud.invoke("Sender", {"bodies": list(bodies.values())})
    assert not sent.failed, sent.error
    cloud.wait_for_log("BigOrders", f"GOT {bodies['big']}")
    cloud.wait_for_log("BigOrders", "GOT URGENT call me")
    deadline = time.monotonic() + 60
    while not _queue_empty(cloud, "Orders") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _queue_empty(cloud, "Orders"), "filtered-out messages must be deleted, not left to redrive"
    assert sorted(_got(cloud, "BigOrders")) == sorted([f"GOT {bodies['big']}", "GOT URGENT call me"])
    # AND the consumer's invocation is stored in the sender's trace, a child of one of its SendMessage spans,
    # with one record span per delivered message (none for the four filtered out)
    [sender] = store.invocations("Sender", semconv.TRIGGER_INVOKE)
    consumer = cloud.function("BigOrders").spec.name
    spans = store.trace_with(sender.trace_id, lambda spans: len(
        [s for s in spans if s.function == consumer and s.kind == "consumer" and not s.request_id]) >= 2,
        "the consumer's record spans in the sender's trace")
    invocations = invocation_of(spans, consumer, semconv.TRIGGER_SQS)
    assert 1 <= len(invocations) <= 2  # one batch or two
    sends = client_spans(spans, sender.function, "SendMessage")
    assert len(sends) == len(bodies) and {i.parent_id for i in invocations} <= {s.span_id for s in sends}
    records = [s for s in spans if s.function == consumer and s.kind == "consumer" and not s.request_id]
    assert len(records) == 2 and {r.parent_id for r in records} <= {i.span_id for i in invocations}


def test_dynamodb_stream_records_are_filtered_on_event_name_and_new_image(
        traced: tuple[LocalCloud, TracedStore]) -> None:
    cloud, store = traced
    dynamodb, table = cloud.client("dynamodb"), cloud.resource("Payments").ref
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-1"}, "status": {"S": "NEW"}})  # INSERT, not paid
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-2"}, "status": {"S": "PAID"}})  # INSERT, paid
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-1"}, "status": {"S": "PAID"}})  # MODIFY, paid
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "p-2"}})  # REMOVE
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p-3"}, "status": {"S": "PAID"}})  # the last one
    # records of a shard are read in order: once the last one is delivered, the skipped ones were passed over
    cloud.wait_for_log("PaidPayments", "GOT INSERT p-3", timeout=40)
    assert _got(cloud, "PaidPayments") == ["GOT INSERT p-2", "GOT MODIFY p-1", "GOT INSERT p-3"]
    # AND each delivery is a stored dynamodb invocation
    assert store.invocations("PaidPayments", semconv.TRIGGER_DYNAMODB)


def test_kinesis_records_are_filtered_on_their_data_decoded_as_json(traced: tuple[LocalCloud, TracedStore]) -> None:
    cloud, store = traced
    kinesis = cloud.client("kinesis")
    datas = [{"ms": 5}, {"ms": 1500}, "not json at all", {"ms": "2000"}, {"ms": 1000}]
    kinesis.put_records(StreamName=cloud.resource("Clicks").ref, Records=[
        {"Data": (d if isinstance(d, str) else json.dumps(d)).encode(), "PartitionKey": "k"} for d in datas])
    cloud.wait_for_log("SlowClicks", 'GOT {"ms": 1000}', timeout=40)
    assert _got(cloud, "SlowClicks") == ['GOT {"ms": 1500}', 'GOT {"ms": 1000}']
    assert store.invocations("SlowClicks", semconv.TRIGGER_KINESIS)
