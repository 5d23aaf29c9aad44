"""A batch mixing traces: each record's outbound work joins its own trace, and the event is never changed."""

from __future__ import annotations

import copy
import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run

pytestmark = pytest.mark.usefixtures("engine")
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/shipments"


def _sqs() -> Any:
    return boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_the_handler_gets_the_very_event_lambda_delivered() -> None:
    # GIVEN a mixed-trace batch, and a bare copy of it
    event = load_event("sqs_mixed_batch")
    original = copy.deepcopy(event)
    records = event["Records"]
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> Any:
        # WHEN the handler does what handlers do with an event
        seen["same_list"] = event["Records"] is records and type(event["Records"]) is list
        seen["same_dicts"] = all(type(r) is dict for r in event["Records"])
        seen["deepcopy"] = copy.deepcopy(event) == original
        seen["pickle"] = pickle.loads(pickle.dumps(event)) == original
        seen["json"] = json.loads(json.dumps(event)) == original
        seen["equal"] = event == original and event["Records"] == original["Records"]
        seen["copy"] = copy.copy(event["Records"]) == original["Records"]
        return {"batchItemFailures": []}

    _, raised, spans, _ = run(wrap(handler), event, LambdaContext())
    # THEN every operation behaves exactly as without the layer
    assert raised is None and all(seen.values()), seen
    assert event == original and len(spans) >= 4


def test_aws_calls_per_record_join_that_records_trace_wherever_the_record_is_held() -> None:
    client = _sqs()

    def ship(message: dict[str, Any]) -> None:  # a helper two frames down, holding the record itself
        client.send_message(QueueUrl=QUEUE_URL, MessageBody=message["body"])

    def body_only(body: str) -> None:  # a helper that only gets a part of the record
        client.send_message(QueueUrl=QUEUE_URL, MessageBody=body)

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            for _ in range(5):
                stub.add_response("send_message", {"MessageId": "m"})
            records = event["Records"]
            ship(records[0])
            for record in records[1:]:
                body_only(record["body"])
            with ThreadPoolExecutor(1) as pool:  # a worker thread that is handed the record
                pool.submit(ship, records[0]).result()
        return {"batchItemFailures": []}

    _, raised, spans, _ = run(wrap(handler), load_event("sqs_mixed_batch"), LambdaContext())
    assert raised is None
    process = {s["attributes"]["messaging.message.id"][-1]: s for s in spans
               if "messaging.message.id" in s["attributes"]}
    sends = [s for s in spans if s["name"] == "SQS.SendMessage"]
    # THEN each send is a child of its record's process span, in that record's trace
    assert [(s["trace_id"], s["parent_id"]) for s in sends] == [
        (process[n]["trace_id"], process[n]["span_id"]) for n in "1231"]


def test_calls_outside_any_record_stay_under_the_invocation() -> None:
    client = _sqs()

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            stub.add_response("send_message", {"MessageId": "m"})
            client.send_message(QueueUrl=QUEUE_URL, MessageBody=str(len(event["Records"])))
        return {}

    _, _, spans, _ = run(wrap(handler), load_event("sqs_mixed_batch"), LambdaContext())
    [send] = [s for s in spans if s["name"] == "SQS.SendMessage"]
    assert send["parent_id"] == invocation_span(spans)["span_id"]


def test_failed_records_are_still_marked_and_the_scope_ends_with_the_invocation() -> None:
    def handler(event: Any, context: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}

    _, _, spans, _ = run(wrap(handler), load_event("sqs_mixed_batch"), LambdaContext())
    failed = [s for s in spans if s["attributes"].get("hoptrace.batch_item_failed")]
    assert [s["attributes"]["messaging.message.id"][-1] for s in failed] == ["2"]
    from hoptrace import record_scope

    assert not record_scope.active()
