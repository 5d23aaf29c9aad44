"""Across real AWS APIs (moto in-process): a producer's trace continues in every consumer.

The producer publishes to SNS, sends to SQS and puts to EventBridge; the real messages
that arrive in SQS (directly, via SNS enveloped and raw, via an EventBridge rule) are
turned into Lambda SQS events exactly as the event source mapping shapes them.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run

REGION = "us-east-1"


def lambda_sqs_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What Lambda's SQS event source mapping hands the function for received messages."""
    records = []
    for message in messages:
        attributes = {
            name: {"stringValue": spec.get("StringValue"), "stringListValues": [], "binaryListValues": [],
                   "dataType": spec["DataType"]}
            for name, spec in message.get("MessageAttributes", {}).items()
        }
        records.append({
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": attributes,
            "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        })
    return {"Records": records}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def make_queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                               AttributeNames=["All"], WaitTimeSeconds=0).get("Messages", [])


def test_one_trace_across_sns_sqs_and_eventbridge(aws: Any) -> None:
    sqs, sns, events = (boto3.client(s, region_name=REGION) for s in ("sqs", "sns", "events"))
    # GIVEN queues fed directly, by SNS (enveloped and raw) and by an EventBridge rule
    direct_url, direct_arn = make_queue(sqs, "payments-direct")
    env_url, env_arn = make_queue(sqs, "payments-sns")
    raw_url, raw_arn = make_queue(sqs, "inventory-sns-raw")
    bus_url, bus_arn = make_queue(sqs, "invoices-events")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=env_arn)
    raw_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, ReturnSubscriptionArn=True)
    sns.set_subscription_attributes(SubscriptionArn=raw_sub["SubscriptionArn"], AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    events.put_rule(Name="paid", EventPattern=json.dumps({"source": ["shop.payments"]}))
    events.put_targets(Rule="paid", Targets=[{"Id": "q", "Arn": bus_arn}])

    def producer(event: Any, context: Any) -> Any:
        sns.publish(TopicArn=topic, Message=json.dumps({"order_id": "42"}),
                    MessageAttributes={"kind": {"DataType": "String", "StringValue": "OrderPlaced"}})
        sqs.send_message(QueueUrl=direct_url, MessageBody=json.dumps({"order_id": "42"}))
        events.put_events(Entries=[{"Source": "shop.payments", "DetailType": "PaymentSucceeded",
                                    "Detail": json.dumps({"order_id": "42"})}])
        return {"statusCode": 201, "body": "{}"}

    # WHEN the traced producer handles an API request
    result, raised, produced, _ = run(wrap(producer), load_event("apigateway_v2"), LambdaContext())
    assert raised is None and result["statusCode"] == 201
    root = invocation_span(produced)
    client_spans = {s["attributes"]["rpc.method"]: s for s in produced
                    if s["kind"] in {"client", "producer"} and s["trace_id"] == root["trace_id"]}
    assert set(client_spans) == {"Publish", "SendMessage", "PutEvents"}

    # THEN every consumer, fed the real delivered messages, continues the same trace
    def consumer(event: Any, context: Any) -> Any:
        return {"batchItemFailures": []}

    cases = {direct_url: (direct_arn, "SendMessage"), env_url: (env_arn, "Publish"),
             raw_url: (raw_arn, "Publish"), bus_url: (bus_arn, "PutEvents")}
    for url, (arn, operation) in cases.items():
        messages = receive(sqs, url)
        assert len(messages) == 1, url
        _, raised, consumed, _ = run(wrap(consumer), lambda_sqs_event(arn, messages), LambdaContext())
        assert raised is None
        span = invocation_span(consumed)
        assert span["trace_id"] == root["trace_id"], f"{operation} via {url} broke the trace"
        assert span["parent_id"] == client_spans[operation]["span_id"], f"{operation} via {url}: wrong parent"
        assert span["attributes"]["hoptrace.context_source"] != "lambda-env"


def test_ten_attribute_messages_are_sent_intact_without_context(aws: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url, _arn = make_queue(sqs, "full")
    attributes = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}

    def producer(event: Any, context: Any) -> Any:
        return sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)["MessageId"]

    message_id, raised, _, _ = run(wrap(producer), {}, LambdaContext())
    assert raised is None and message_id
    [message] = receive(sqs, url)
    assert sorted(message["MessageAttributes"]) == sorted(attributes)
