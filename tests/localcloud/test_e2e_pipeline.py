"""End to end on the test application: real moto server, real worker processes, real HTTP."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import http, receive_one

pytestmark = pytest.mark.e2e


def _wait_for_item(cloud, order_id: str, timeout: float = 60.0) -> dict:
    dynamodb = cloud.client("dynamodb")
    table = cloud.resource("NotificationsTable").ref
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = dynamodb.get_item(TableName=table, Key={"orderId": {"S": order_id}}, ConsistentRead=True).get("Item")
        if item:
            return item
        time.sleep(0.1)
    raise AssertionError(f"order {order_id} never reached the notifications table")


def _wait_lines(cloud, logical_id: str, predicate, count: int, timeout: float = 60.0) -> list[str]:
    """The function's log lines matching `predicate` once there are `count` of them (or what there is at the
    deadline): a function's log trails its reply, so a line is waited for, never read once."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in cloud.log_lines(logical_id) if predicate(line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_http_to_sns_to_sqs_to_eventbridge_to_function(pipeline_cloud):
    # GIVEN the application running locally
    # WHEN an order is posted to the REST API
    status, _, body = http(f"{pipeline_cloud.api_url}/orders", "POST", {"id": "order-e2e"})
    # THEN the API function answers 202 with its request id
    assert status == 202
    assert json.loads(body)["accepted"] == "order-e2e"
    # AND the order travels SNS -> SQS -> worker -> EventBridge -> notify function, which writes it down
    item = _wait_for_item(pipeline_cloud, "order-e2e")
    assert item["kind"] == {"S": "order"}  # the SNS message attribute survived the SQS envelope
    assert pipeline_cloud.wait_for_log("NotifyFunction", "NOTIFY order-e2e OrderAccepted")
    # AND each function's log carries the platform lines
    assert pipeline_cloud.wait_for_log("WorkerFunction", "\tInit Duration: ").message.startswith("REPORT RequestId: ")
    worker_lines = pipeline_cloud.log_lines("WorkerFunction")
    assert any(line.startswith("START RequestId: ") and line.endswith("Version: $LATEST") for line in worker_lines)


def test_rest_and_http_api_shapes_map_back(pipeline_cloud):
    # GIVEN routes with path parameters on a REST API and an HTTP API
    # WHEN they are called
    status, headers, body = http(f"{pipeline_cloud.api_url}/orders/17")
    v2_status, _, v2_body = http(f"{pipeline_cloud.api_url}/v2/items/42?color=red")
    missing, _, _ = http(f"{pipeline_cloud.api_url}/nowhere")
    # THEN the base64 body is decoded and headers kept (v1) and the v2 event had its parts
    assert (status, body) == (200, b"hello")
    assert headers["Content-Type"] == "application/octet-stream"
    assert v2_status == 200
    assert json.loads(v2_body) == {"id": "42", "q": {"color": "red"}, "routeKey": "GET /v2/items/{id}",
                                   "stage": "$default"}
    assert missing == 404


def test_poison_message_ends_in_dlq_after_max_receive_count(pipeline_cloud):
    # GIVEN a worker that reports a poison record as a batch item failure, and maxReceiveCount 2
    # WHEN a poison order goes through the pipeline
    status, _, _ = http(f"{pipeline_cloud.api_url}/orders", "POST", {"id": "bad", "poison": True})
    assert status == 202
    # THEN it lands in the DLQ, after exactly two receives by the worker
    message = receive_one(pipeline_cloud, "OrdersDLQ")
    assert json.loads(json.loads(message["Body"])["Message"])["id"] == "bad"
    poison_lines = _wait_lines(pipeline_cloud, "WorkerFunction", lambda line: line.startswith("POISON"), 2)
    assert [line.rsplit(" ", 1)[1] for line in poison_lines] == ["1", "2"]


def test_burst_of_concurrent_requests_scales_out_with_cold_starts(pipeline_cloud):
    # GIVEN the slow function
    pool = pipeline_cloud.function("SlowFunction")
    before = pool.cold_starts
    # WHEN four requests that each take 0.5 s arrive at once
    with ThreadPoolExecutor(4) as executor:
        results = list(executor.map(lambda _: http(f"{pipeline_cloud.api_url}/slow?sleep=0.5"), range(4)))
    # THEN all succeed, served by more than one worker process, each a cold start
    assert all(status == 200 for status, _, _ in results)
    assert len({body for _, _, body in results}) > 1
    assert pool.cold_starts - before > 1
    colds = _wait_lines(pipeline_cloud, "SlowFunction", lambda line: line.startswith("REPORT") and
                        "Init Duration" in line, 2)
    assert len(colds) > 1


def test_function_is_killed_at_its_timeout(pipeline_cloud):
    # GIVEN the slow function with a 1 s timeout and a warm worker
    pool = pipeline_cloud.function("SlowFunction")
    assert http(f"{pipeline_cloud.api_url}/slow?sleep=0")[0] == 200
    before = set(pool.worker_pids())
    # WHEN a request sleeps past the timeout
    started = time.monotonic()
    status, _, _ = http(f"{pipeline_cloud.api_url}/slow?sleep=5")
    # THEN the API answers 502 after about a second and the platform wrote the timeout line
    assert status == 502
    assert time.monotonic() - started < 4.5  # not the handler's 5 s (a busy machine may add some)
    line = pipeline_cloud.wait_for_log("SlowFunction", "Task timed out after 1.00 seconds")
    assert line.message.split(" ")[1].count("-") == 4  # "<time> <request id> Task timed out ..."
    assert pipeline_cloud.wait_for_log("SlowFunction", "Status: timeout").message.startswith("REPORT")
    # AND the worker that timed out was killed, the others stay warm
    gone = before - set(pool.worker_pids())
    assert len(gone) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(gone.pop(), 0)


def test_log_subscription_payload_decodes_to_source_log_lines(pipeline_cloud):
    # GIVEN a function subscribed to the API function's log group with an empty filter pattern
    # WHEN the API function logs something
    http(f"{pipeline_cloud.api_url}/orders", "POST", {"id": "logged-order"})
    # THEN the subscriber receives a CloudWatch Logs DATA_MESSAGE holding that line
    deadline = time.monotonic() + 60
    documents = []
    while time.monotonic() < deadline and not any(
            "ORDER received logged-order" in e["message"] for d in documents for e in d["logEvents"]):
        pipeline_cloud.wait_for_log("LogSinkFunction", "PAYLOAD ")
        documents = [json.loads(line[len("PAYLOAD "):]) for line in pipeline_cloud.log_lines("LogSinkFunction")
                     if line.startswith("PAYLOAD ")]
        time.sleep(0.2)
    api_group = pipeline_cloud.function("ApiFunction").spec.log_group
    document = next(d for d in documents if any("ORDER received logged-order" in e["message"]
                                                 for e in d["logEvents"]))
    assert document["messageType"] == "DATA_MESSAGE"
    assert document["logGroup"] == api_group
    assert document["owner"] == "123456789012"
    assert document["subscriptionFilters"]
    # AND the events are exactly the source's log lines, with CloudWatch's ids and timestamps
    source = {e.id: e for e in pipeline_cloud.logs.events(api_group)}
    for event in document["logEvents"]:
        assert source[event["id"]].message == event["message"]
        assert source[event["id"]].timestamp == event["timestamp"]
        assert source[event["id"]].stream == document["logStream"]


def test_exec_wrapper_rewrites_handler_and_layer_is_importable(pipeline_cloud):
    # GIVEN a function with a layer shipping python/greeting_layer.py and /opt/wrapper.sh as exec wrapper
    # WHEN it is invoked
    invocation = pipeline_cloud.invoke("WrappedFunction", {"x": 1})
    # THEN the wrapper's _HANDLER (a layer module) ran, and it called the template's handler
    assert invocation.error is None
    assert invocation.payload == {"wrapped": True, "handler_seen": "greeting_layer.wrapped_handler",
                                  "result": {"original": True, "event": {"x": 1}}}


def test_async_invocation_retries_then_goes_to_dlq_and_on_failure_destination(pipeline_cloud):
    # GIVEN a function that always fails, with MaximumRetryAttempts 1, a DLQ and an OnFailure destination
    # WHEN it is invoked asynchronously
    pipeline_cloud.invoke_async("FailingFunction", {"n": 99})
    # THEN the DLQ receives the original event with the attributes Lambda adds
    dead = receive_one(pipeline_cloud, "FailedEventsDLQ")
    assert json.loads(dead["Body"]) == {"n": 99}
    attributes = dead["MessageAttributes"]
    assert attributes["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attributes["ErrorMessage"]["StringValue"] == "cannot handle 99"
    # AND the destination receives the invocation record after 2 attempts
    record = json.loads(receive_one(pipeline_cloud, "FailuresQueue")["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["requestId"] == attributes["RequestID"]["StringValue"]
    assert record["requestPayload"] == {"n": 99}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    attempts = _wait_lines(pipeline_cloud, "FailingFunction", lambda line: line == "ATTEMPT 99", 2)
    assert len(attempts) == 2


def test_eventbridge_rule_filters_events_by_pattern(pipeline_cloud):
    # GIVEN the notify function's rule matching source "orders" and detail-type "OrderAccepted"
    events = pipeline_cloud.client("events")
    bus = pipeline_cloud.resource("AppBus").ref
    # WHEN one non-matching and one matching event are put
    events.put_events(Entries=[
        {"Source": "billing", "DetailType": "OrderAccepted", "EventBusName": bus,
         "Detail": json.dumps({"orderId": "not-for-me", "kind": "x"})},
        {"Source": "orders", "DetailType": "OrderAccepted", "EventBusName": bus,
         "Detail": json.dumps({"orderId": "direct-event", "kind": "x"})},
    ])
    # THEN only the matching one is delivered, with the EventBridge envelope
    _wait_for_item(pipeline_cloud, "direct-event")
    time.sleep(1.5)
    assert not any("not-for-me" in line for line in pipeline_cloud.log_lines("NotifyFunction"))


def test_schedule_fires_scheduled_events(pipeline_cloud):
    # GIVEN rate(1 minute) scaled by 0.01 in the test configuration
    # THEN the ticker function receives Scheduled Events from aws.events
    assert pipeline_cloud.wait_for_log("TickerFunction", "TICK Scheduled Event aws.events")


def test_lambda_environment_and_context(pipeline_cloud):
    # GIVEN the API function's environment pointing at the local moto server
    # WHEN its environment is inspected through a worker process of its own
    env_probe = pipeline_cloud.function("ApiFunction").spec
    # THEN template references resolved to local names and Globals merged in
    topic = pipeline_cloud.resource("OrdersTopic")
    assert env_probe.environment["TOPIC_ARN"] == topic.ref == topic.attributes["TopicArn"]
    assert env_probe.environment["QUEUE_URL"] == pipeline_cloud.resource("OrdersQueue").url
    assert env_probe.environment["STAGE"] == "test"
    assert env_probe.memory_mb == 256
    assert pipeline_cloud.warnings == []
