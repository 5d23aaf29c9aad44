"""The DLQ watcher against moto's SQS: peeks without consuming, finds the trace, names the error."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation

from hoptrace_collector.dlq import receive_all, watch
from hoptrace_collector.dlq.discover import discover
from hoptrace_collector.dlq.messages import peek
from hoptrace_collector.store import SpanRecord, Store
from tests.conftest import load_event

TRACE = "5759e988bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"
TRACEPARENT = f"00-{TRACE}-{PARENT}-01"


@pytest.fixture(autouse=True)
def _messages_carry_only_what_the_test_gives() -> Any:
    """Another test module may have imported the layer, which instruments botocore process-wide."""
    with suppress_instrumentation():
        yield


@pytest.fixture
def queues(aws: Any) -> dict[str, str]:
    """A source queue that redrives into its DLQ after one receive (names unique per test)."""
    sqs = aws("sqs")
    suffix = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"orders-dlq-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName=f"orders-{suffix}", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn, "maxReceiveCount": 1})})["QueueUrl"]
    return {"dlq": dlq, "source": source, "suffix": suffix}


def failed_processing(store: Store, message_id: str) -> None:
    """What the layer stored when the consumer failed the message (a batch item failure)."""
    now = time.time_ns()
    store.write([SpanRecord(TRACE, "1" * 16, PARENT, "process orders", "consumer", now - 10**9, now, "error",
                            status_message="reported in batchItemFailures", service="payments",
                            function="payments", attributes={"messaging.message.id": message_id})])


def dead_letter(sqs: Any, queues: dict[str, str], **send: Any) -> str:
    """Send to the source queue and fail it once, so SQS redrives it into the DLQ."""
    message_id = sqs.send_message(QueueUrl=queues["source"], **send)["MessageId"]
    sqs.receive_message(QueueUrl=queues["source"], VisibilityTimeout=0)
    assert not sqs.receive_message(QueueUrl=queues["source"], VisibilityTimeout=0).get("Messages")
    return message_id


def test_redriven_message_is_tied_to_its_trace_and_error(aws: Any, store: Store, queues: dict[str, str]) -> None:
    sqs = aws("sqs")
    # GIVEN a message carrying a traceparent that a consumer failed until SQS moved it to the DLQ
    message_id = dead_letter(sqs, queues, MessageBody='{"order": 17}', MessageAttributes={
        "traceparent": {"DataType": "String", "StringValue": TRACEPARENT}})
    failed_processing(store, message_id)
    # WHEN the watcher runs (discovering the DLQ from the source's RedrivePolicy)
    summary = watch(sqs, store)
    # THEN the message is stored with its trace, its source queue and the consumer's error
    dlq_name = f"orders-dlq-{queues['suffix']}"
    assert summary["queues"][dlq_name] == 1
    [stored] = store.dlq_messages(queue=dlq_name)
    assert (stored.message_id, stored.trace_id, stored.parent_span_id, stored.source_queue, stored.error) == (
        message_id, TRACE, PARENT, f"orders-{queues['suffix']}", "reported in batchItemFailures")
    # AND "received" counts the consumer's receives, not the watcher's own peeks (maxReceiveCount 1)
    assert stored.body_preview == '{"order": 17}' and stored.receive_count == 1
    # AND the message is still in the DLQ (peeked, not consumed), and a second run adds no row
    assert [m["MessageId"] for m in receive_all(sqs, queues["dlq"])] == [message_id]
    watch(sqs, store)
    assert len(store.dlq_messages(queue=dlq_name)) == 1
    assert store.dlq_messages(queue=dlq_name)[0].receive_count == stored.receive_count


def test_error_is_found_by_message_id_when_no_trace_is_carried(aws: Any, store: Store,
                                                               queues: dict[str, str]) -> None:
    sqs = aws("sqs")
    message_id = dead_letter(sqs, queues, MessageBody="plain")
    failed_processing(store, message_id)
    watch(sqs, store, [queues["dlq"]])
    [stored] = store.dlq_messages()
    assert (stored.trace_id, stored.error) == (TRACE, "reported in batchItemFailures")


def test_sns_envelope_and_xray_header(aws: Any, store: Store, queues: dict[str, str]) -> None:
    sqs = aws("sqs")
    envelope = json.loads(load_event("sqs_sns_envelope")["Records"][0]["body"])
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody=json.dumps(envelope))
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody="x", MessageSystemAttributes={"AWSTraceHeader": {
        "DataType": "String", "StringValue": f"Root=1-6759e988-bd862e3fe1be46a994272794;Parent={PARENT};Sampled=1"}})
    watch(sqs, store, [queues["dlq"]])
    by_body = {m.body_preview[:1]: m for m in store.dlq_messages()}
    carried = envelope["MessageAttributes"]["traceparent"]["Value"].split("-")
    assert by_body["{"].trace_id == carried[1] and by_body["{"].parent_span_id == carried[2]
    assert by_body["x"].trace_id == "6759e988bd862e3fe1be46a994272794"


def test_lambda_async_dlq_message(aws: Any, store: Store, queues: dict[str, str]) -> None:
    # GIVEN what Lambda puts in a function's DLQ after async retries: the event, plus the error as attributes
    sqs = aws("sqs")
    request_id = "0f0f0f0f-0000-4000-8000-000000000001"
    store.write([SpanRecord(TRACE, "2" * 16, None, "invoices", "server", 1, 2, "error", service="invoices",
                            function="invoices", request_id=request_id)])
    attributes = {"RequestID": {"DataType": "String", "StringValue": request_id},
                  "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                  "ErrorMessage": {"DataType": "String", "StringValue": "boom: card declined"}}
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody=json.dumps({"order": 1}), MessageAttributes=attributes)
    carried = {"_hoptrace": {"traceparent": f"00-{'a' * 32}-{'b' * 16}-01"}, "order": 2}
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody=json.dumps(carried), MessageAttributes=attributes)
    # WHEN the watcher peeks
    watch(sqs, store, [queues["dlq"]])
    # THEN the error comes from ErrorMessage, the trace from the payload, else from the failed request's spans
    traces = {json.loads(m.body_preview)["order"]: m for m in store.dlq_messages()}
    assert traces[1].trace_id == TRACE and traces[2].trace_id == "a" * 32
    assert {m.error for m in traces.values()} == {"boom: card declined"}


def test_a_dead_lettered_message_is_stored_without_its_secrets(aws: Any, store: Store,
                                                                 queues: dict[str, str]) -> None:
    # GIVEN a dead-lettered order whose body and error carry credentials (the body's password across the
    # preview's cut at 256 characters: "hunt" before it)
    sqs = aws("sqs")
    body = json.dumps({"order": 3, "callback": "https://h/cb?token=t0k3n", "note": "x" * 174, "password": "hunter2"})
    assert body[:256].endswith('"hunt')
    attributes = {"ErrorMessage": {"DataType": "String", "StringValue": "login failed: api_key=AKIAIOSFODNN7EXAMPLE"}}
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody=body, MessageAttributes=attributes)
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody='{"order": 4, "password": "hunter2"}')
    # WHEN the watcher stores them
    watch(sqs, store, [queues["dlq"]])
    # THEN what is stored (and shown) keeps the message, never the secrets, whole or cut
    stored = store.dlq_messages()
    assert len(stored) == 2 and all("hunt" not in m.body_preview and "t0k3n" not in m.body_preview for m in stored)
    assert any(m.body_preview == '{"order": 4, "password": "[REDACTED]"}' for m in stored)
    assert {m.error for m in stored if m.error.startswith("login")} == {"login failed: api_key=[REDACTED]"}
    assert all("AKIA" not in m.error for m in stored)


def test_on_failure_destination_record_and_eventbridge_detail() -> None:
    event = load_event("eventbridge")
    record = {"version": "1.0", "requestContext": {"requestId": "r-1", "condition": "RetriesExhausted"},
              "requestPayload": event, "responsePayload": {"errorType": "ValueError", "errorMessage": "bad"}}
    peeked = peek({"MessageId": "m-1", "Body": json.dumps(record), "Attributes": {"ApproximateReceiveCount": "2"}})
    assert (peeked.request_id, peeked.error, peeked.receive_count) == ("r-1", "ValueError: bad", 1)
    assert peeked.trace_id == event["detail"]["_hoptrace"]["traceparent"].split("-")[1]


def test_discovery_only_lists_queues_something_redrives_into(aws: Any, queues: dict[str, str]) -> None:
    found = {q.name: q for q in discover(aws("sqs"))}
    assert found[f"orders-dlq-{queues['suffix']}"].sources == (f"orders-{queues['suffix']}",)
    assert f"orders-{queues['suffix']}" not in found


def test_unreadable_queue_is_reported_and_the_others_still_watched(aws: Any, store: Store,
                                                                   queues: dict[str, str]) -> None:
    sqs = aws("sqs")
    sqs.send_message(QueueUrl=queues["dlq"], MessageBody="kept")
    missing = queues["dlq"].rsplit("/", 1)[0] + "/no-such-queue"
    summary = watch(sqs, store, [missing, queues["dlq"]])
    assert "no-such-queue" in summary["errors"] and summary["messages"] == 1


def test_a_dlq_with_more_than_ten_messages_is_seen_whole_and_left_whole(aws: Any, store: Store,
                                                                         queues: dict[str, str]) -> None:
    # GIVEN 25 messages in a DLQ (one ReceiveMessage returns at most 10)
    sqs = aws("sqs")
    sent = {sqs.send_message(QueueUrl=queues["dlq"], MessageBody=f"m{n}")["MessageId"] for n in range(25)}
    # WHEN the watcher peeks
    watch(sqs, store, [queues["dlq"]])
    # THEN every message is recorded, and every one is visible again for whoever redrives the queue
    assert {m.message_id for m in store.dlq_messages()} == sent
    assert {m["MessageId"] for m in receive_all(sqs, queues["dlq"])} == sent
