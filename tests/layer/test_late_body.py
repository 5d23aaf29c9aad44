"""SQS SendMessage's traceparent written into botocore's serialised JSON body (`hoptrace.outbound.late_body`).

The wire request must be the very one the parameter would have made; the caller's parameters, and what
botocore's parameter hooks see, stay as the caller wrote them; and a member never lands in another call.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber
from moto import mock_aws

from hoptrace.outbound.late_body import PENDING, _add
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import run

pytestmark = pytest.mark.usefixtures("engine")
CREDENTIALS = {"region_name": "eu-west-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"


def _bodies(client: Any) -> list[bytes]:
    """The serialised bodies of `client`'s calls, as the (hooked) class method makes them, ahead of a Stubber."""
    bodies: list[bytes] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        request = type(client)._convert_to_request_dict(client, *args, **kwargs)
        bodies.append(request["body"])
        return request

    client._convert_to_request_dict = recording
    return bodies


def _producer_ids(spans: list[dict[str, Any]]) -> list[str]:
    return [s["span_id"] for s in spans if s["kind"] == "producer"]


def test_the_body_carries_the_send_span_and_is_what_the_parameter_would_have_made() -> None:
    client = boto3.client("sqs", **CREDENTIALS)
    bodies = _bodies(client)
    seen: list[dict[str, Any]] = []
    client.meta.events.register("before-parameter-build.sqs.SendMessage", lambda params, **_: seen.append(dict(params)))
    kwargs = {"QueueUrl": QUEUE_URL, "MessageBody": "ü \"quoted\" {not json}", "DelaySeconds": 1}

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            stub.add_response("send_message", {"MessageId": "m-1"}, expected_params=kwargs)  # exactly the caller's
            return client.send_message(**kwargs)["MessageId"]

    result, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None and result == "m-1"
    [span_id] = _producer_ids(spans)
    [body] = bodies
    sent = json.loads(body)
    traceparent = sent["MessageAttributes"]["traceparent"]["StringValue"]
    assert traceparent.split("-")[2] == span_id
    assert seen == [kwargs]  # botocore's hooks saw the caller's parameters, no traceparent
    # the same bytes botocore's own serialiser makes from the parameter
    operation = client.meta.service_model.operation_model("SendMessage")
    attribute = {"traceparent": {"DataType": "String", "StringValue": traceparent}}
    with_parameter = {**kwargs, "MessageAttributes": attribute}
    assert body == client._serializer.serialize_to_request(with_parameter, operation)["body"]


def test_a_message_with_attributes_of_its_own_still_gets_them_as_parameters() -> None:
    client = boto3.client("sqs", **CREDENTIALS)
    bodies = _bodies(client)
    attrs = {"kind": {"DataType": "String", "StringValue": "order"}}

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            stub.add_response("send_message", {"MessageId": "m-1"})
            client.send_message(QueueUrl=QUEUE_URL, MessageBody="x", MessageAttributes=attrs)

    _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None
    sent = json.loads(bodies[0])["MessageAttributes"]
    assert sent["kind"] == attrs["kind"] and sent["traceparent"]["StringValue"].split("-")[2] == _producer_ids(spans)[0]
    assert attrs == {"kind": {"DataType": "String", "StringValue": "order"}}  # the caller's dict untouched


def test_a_send_that_fails_before_its_body_leaves_nothing_for_the_next_call() -> None:
    client = boto3.client("sqs", **CREDENTIALS)
    bodies = _bodies(client)

    def handler(event: Any, context: Any) -> Any:
        with pytest.raises(ParamValidationError):
            client.send_message(QueueUrl=QUEUE_URL)  # no MessageBody: botocore refuses it before serialising
        assert not PENDING
        with Stubber(client) as stub:
            stub.add_response("get_queue_url", {"QueueUrl": QUEUE_URL})
            client.get_queue_url(QueueName="orders")

    _, raised, _, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None
    assert [json.loads(b) for b in bodies] == [{"QueueName": "orders"}]


def _spliced(body: bytes, member: bytes) -> Any:
    request = {"body": body}
    _add(request, member)
    return json.loads(request["body"])


def test_a_json_member_is_added_last() -> None:
    assert _spliced(b'{"a": 1}', b'"b": {"c": "d"}') == {"a": 1, "b": {"c": "d"}}
    assert _spliced(b"{}", b'"b": 2') == {"b": 2}


def test_a_real_queue_hands_the_consumer_the_send_span_as_its_parent() -> None:
    """Through moto's SQS (in process): what the consumer receives is what a queue stores from the wire."""
    with mock_aws():
        client = boto3.client("sqs", **CREDENTIALS)
        url = client.create_queue(QueueName="orders")["QueueUrl"]

        def handler(event: Any, context: Any) -> Any:
            client.send_message(QueueUrl=url, MessageBody="order 1")
            client.send_message(QueueUrl=url, MessageBody="order 2", MessageAttributes={
                "kind": {"DataType": "String", "StringValue": "order"}})

        _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
        assert raised is None
        received = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        carried = {m["Body"]: m["MessageAttributes"]["traceparent"]["StringValue"].split("-")[2]
                   for m in received["Messages"]}
        assert sorted(carried.values()) == sorted(_producer_ids(spans))
        assert len(set(carried.values())) == 2


def test_an_sns_publish_gets_the_form_fields_the_parameter_would_have_made() -> None:
    client = boto3.client("sns", **CREDENTIALS)
    bodies = _bodies(client)
    kwargs = {"TopicArn": "arn:aws:sns:eu-west-1:123456789012:order-events", "Message": "paid & shipped"}

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            stub.add_response("publish", {"MessageId": "n-1"}, expected_params=kwargs)
            client.publish(**kwargs)

    _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None
    [body] = bodies
    traceparent = body["MessageAttributes.entry.1.Value.StringValue"]
    assert traceparent.split("-")[2] == _producer_ids(spans)[0]
    operation = client.meta.service_model.operation_model("Publish")
    attribute = {"traceparent": {"DataType": "String", "StringValue": traceparent}}
    serialised = client._serializer.serialize_to_request({**kwargs, "MessageAttributes": attribute}, operation)
    assert body == serialised["body"]


def test_a_real_topic_hands_its_queue_the_publish_span() -> None:
    """SNS → SQS through moto (in process): the enveloped message carries the publish span's traceparent."""
    with mock_aws():
        sns, sqs = boto3.client("sns", **CREDENTIALS), boto3.client("sqs", **CREDENTIALS)
        topic = sns.create_topic(Name="order-events")["TopicArn"]
        url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

        def handler(event: Any, context: Any) -> Any:
            sns.publish(TopicArn=topic, Message="order 1")

        _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
        assert raised is None
        [message] = sqs.receive_message(QueueUrl=url)["Messages"]
        envelope = json.loads(message["Body"])
        assert envelope["MessageAttributes"]["traceparent"]["Value"].split("-")[2] == _producer_ids(spans)[0]


def test_a_botocore_with_other_parameters_gets_the_generic_wrapper_and_the_same_body(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hoptrace.outbound import late_body

    late_body.uninstall()
    monkeypatch.setattr(late_body, "_SIGNATURE", "(self, *args)")  # not the botocore installed here
    late_body.install()
    try:
        from botocore.client import BaseClient

        assert BaseClient._convert_to_request_dict.__name__ == "generic"
        test_the_body_carries_the_send_span_and_is_what_the_parameter_would_have_made()
    finally:
        late_body.uninstall()
        monkeypatch.undo()
        late_body.install()
