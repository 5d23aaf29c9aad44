"""Our AWS SDK hook through real botocore clients (HTTP answered by botocore's Stubber): spans, attributes, errors."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from hoptrace.outbound import aws
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run

pytestmark = pytest.mark.usefixtures("engine")
CREDENTIALS = {"region_name": "eu-west-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
META = {"ResponseMetadata": {"RequestId": "req-abc", "HTTPStatusCode": 200, "RetryAttempts": 2}}
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:order-events"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:saga"


def client_spans(call: Any, service: str, method: str, response: dict[str, Any], **params: Any) -> dict[str, Any]:
    client = boto3.client(service, **CREDENTIALS)

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            stub.add_response(method, {**response, **META})
            return call(client)

    _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None
    [span] = [s for s in spans if s["kind"] in ("client", "producer")]
    assert span["parent_id"] == invocation_span(spans)["span_id"]
    return span


CASES = [
    ("sqs", "send_message", {"MessageId": "m-1"}, lambda c: c.send_message(QueueUrl=QUEUE_URL, MessageBody="x"),
     "producer", "SQS.SendMessage", {"aws.sqs.queue.url": QUEUE_URL, "messaging.destination.name": "orders",
                                     "messaging.system": "aws_sqs", "messaging.message.id": "m-1"}),
    ("sqs", "send_message_batch", {"Successful": [{"Id": "a", "MessageId": "m-1", "MD5OfMessageBody": "x"},
                                                  {"Id": "b", "MessageId": "m-2", "MD5OfMessageBody": "x"}],
                                   "Failed": []},
     lambda c: c.send_message_batch(QueueUrl=QUEUE_URL, Entries=[{"Id": "a", "MessageBody": "1"},
                                                                 {"Id": "b", "MessageBody": "2"}]),
     "producer", "SQS.SendMessageBatch", {"hoptrace.messaging.message_ids": ["m-1", "m-2"],
                                          "messaging.batch.message_count": 2}),
    ("sns", "publish", {"MessageId": "n-1"}, lambda c: c.publish(TopicArn=TOPIC, Message="x"),
     "producer", "SNS.Publish", {"aws.sns.topic.arn": TOPIC, "messaging.destination.name": "order-events",
                                 "messaging.message.id": "n-1"}),
    ("events", "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]},
     lambda c: c.put_events(Entries=[{"Source": "shop", "DetailType": "OrderPaid", "Detail": "{}",
                                      "EventBusName": "orders-bus"}]),
     "producer", "EventBridge.PutEvents", {"hoptrace.eventbridge.buses": ["orders-bus"],
                                           "hoptrace.eventbridge.detail_types": ["OrderPaid"],
                                           "hoptrace.eventbridge.event_ids": ["e-1"]}),
    ("dynamodb", "transact_write_items", {},
     lambda c: c.transact_write_items(TransactItems=[
         {"Put": {"TableName": "orders", "Item": {"pk": {"S": "1"}}}},
         {"Delete": {"TableName": "stock", "Key": {"pk": {"S": "1"}}}}]),
     "client", "DynamoDB.TransactWriteItems", {"aws.dynamodb.table_names": ["orders", "stock"]}),
    ("s3", "put_object", {"ETag": '"abc123"', "VersionId": "v1"},
     lambda c: c.put_object(Bucket="invoices", Key="2026/1.pdf", Body=b"x"),
     "client", "S3.PutObject", {"aws.s3.bucket": "invoices", "aws.s3.key": "2026/1.pdf", "hoptrace.s3.etag": "abc123"}),
    ("lambda", "invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": b"{}"},
     lambda c: c.invoke(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:payments:live", Payload=b"{}"),
     "client", "Lambda.Invoke", {"faas.invoked_name": "payments", "hoptrace.lambda.function_error": "Unhandled"}),
    ("stepfunctions", "start_execution", {"executionArn": MACHINE + ":run-1", "startDate": "2026-01-01T00:00:00Z"},
     lambda c: c.start_execution(stateMachineArn=MACHINE, input="{}"),
     "client", "SFN.StartExecution", {"aws.step_functions.state_machine.arn": MACHINE,
                                      "hoptrace.sfn.execution_arn": MACHINE + ":run-1"}),
]


@pytest.mark.parametrize(("service", "method", "response", "call", "kind", "name", "expected"), CASES,
                         ids=[c[5] for c in CASES])
def test_client_span_has_the_conventions_and_the_services_own_attributes(
        service: str, method: str, response: dict[str, Any], call: Any, kind: str, name: str,
        expected: dict[str, Any]) -> None:
    # GIVEN a traced handler making one AWS SDK call / WHEN it runs
    span = client_spans(call, service, method, response)
    # THEN the call is one client span named like OpenTelemetry's, with the conventions and the service's details
    assert span["name"] == name and span["kind"] == kind
    attributes = span["attributes"]
    assert attributes["rpc.system"] == "aws-api" and attributes["rpc.method"] == name.split(".")[1]
    assert attributes["rpc.service"] == name.split(".")[0] and attributes["cloud.region"] == "eu-west-1"
    assert attributes["aws.request_id"] == "req-abc" and attributes["http.response.status_code"] == 200
    assert attributes["retry_attempts"] == 2
    for key, value in expected.items():
        assert attributes[key] == value, key


def test_a_failed_call_is_an_error_span_and_the_same_exception_reaches_the_handler() -> None:
    client = boto3.client("sqs", **CREDENTIALS)
    caught: list[BaseException] = []

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            stub.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue",
                                  http_status_code=400, service_message="no such queue")
            try:
                client.send_message(QueueUrl=QUEUE_URL, MessageBody="x")
            except ClientError as error:
                caught.append(error)
                raise

    _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    # THEN botocore's own exception object passes through, and the span says what failed
    assert raised is caught[0] and isinstance(raised, ClientError)
    [span] = [s for s in spans if s["kind"] == "producer"]
    assert span["status"]["code"] == "error" and "NonExistentQueue" in span["status"]["message"]
    assert span["attributes"]["error.type"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert span["attributes"]["http.response.status_code"] == 400
    assert [e["name"] for e in span["events"]] == ["exception"]


def test_calls_outside_an_invocation_make_no_span_and_still_work() -> None:
    client = boto3.client("sqs", **CREDENTIALS)
    with Stubber(client) as stub, redirect_stdout(io.StringIO()) as out:
        stub.add_response("send_message", {"MessageId": "m-1"})
        assert client.send_message(QueueUrl=QUEUE_URL, MessageBody="x")["MessageId"] == "m-1"
    assert "HOPTRACE" not in out.getvalue()


def test_the_hook_can_be_removed_and_installed_again(engine: Any) -> None:
    # GIVEN the hook installed / WHEN removed THEN botocore's own method is back and calls make no span
    assert hasattr(BaseClient._make_api_call, "__hoptrace_original__")
    aws.uninstall()
    try:
        assert not hasattr(BaseClient._make_api_call, "__hoptrace_original__")
        names = [s["name"] for s in run(wrap(_one_call), load_event("sns"), LambdaContext())[2]]
        assert not [n for n in names if n.startswith("SQS")], names
    finally:
        aws.install(engine)
    # AND installed again, calls are traced again (one wrap, not two)
    assert not hasattr(BaseClient._make_api_call.__hoptrace_original__, "__hoptrace_original__")
    names = [s["name"] for s in run(wrap(_one_call), load_event("sns"), LambdaContext())[2]]
    assert [n for n in names if n.startswith("SQS")] == ["SQS.SendMessage"], names


def _one_call(event: Any, context: Any) -> Any:
    client = boto3.client("sqs", **CREDENTIALS)
    with Stubber(client) as stub:
        stub.add_response("send_message", {"MessageId": "m-1"})
        return client.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps(event)[:10])


SENDS = [
    ("sqs", "send_message", {"MessageId": "m-1"},
     lambda c, attrs, entries: c.send_message(QueueUrl=QUEUE_URL, MessageBody="x", MessageAttributes=attrs),
     lambda params: [params["MessageAttributes"]["traceparent"]["StringValue"]]),
    ("sqs", "send_message_batch", {"Successful": [], "Failed": []},
     lambda c, attrs, entries: c.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries),
     lambda params: [e["MessageAttributes"]["traceparent"]["StringValue"] for e in params["Entries"]]),
    ("sns", "publish_batch", {"Successful": [], "Failed": []},
     lambda c, attrs, entries: c.publish_batch(TopicArn=TOPIC, PublishBatchRequestEntries=entries),
     lambda params: [e["MessageAttributes"]["traceparent"]["StringValue"]
                     for e in params["PublishBatchRequestEntries"]]),
    ("events", "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]},
     lambda c, attrs, entries: c.put_events(Entries=entries),
     lambda params: [json.loads(e["Detail"])["_hoptrace"]["traceparent"] for e in params["Entries"]]),
]


@pytest.mark.parametrize(("service", "method", "response", "call", "sent"), SENDS, ids=[s[1] for s in SENDS])
def test_what_the_caller_passes_is_never_changed_and_each_send_carries_its_own_span(
        service: str, method: str, response: dict[str, Any], call: Any, sent: Any) -> None:
    """A caller that builds its attributes or entries once and sends them twice: both sends carry their own
    span's context (not the first's, left behind in the caller's dicts), and the caller's objects stay as built."""
    client = boto3.client(service, **CREDENTIALS)
    attrs = {"kind": {"DataType": "String", "StringValue": "order"}}
    if service == "events":
        entries = [{"Source": "shop", "DetailType": "OrderPaid", "Detail": '{"order": 1}'}]
    else:
        entries = [{"Id": "a", "MessageBody" if service == "sqs" else "Message": "1", "MessageAttributes": attrs}]
    before = json.dumps([attrs, entries], sort_keys=True)
    carried: list[str] = []
    operation = "".join(part.title() for part in method.split("_"))
    client.meta.events.register(f"before-parameter-build.{service}.{operation}",
                                lambda params, **_: carried.extend(sent(params)))

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub:
            for _ in range(2):
                stub.add_response(method, {**response, **META})
                call(client, attrs, entries)

    _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None
    assert json.dumps([attrs, entries], sort_keys=True) == before
    sends = [s for s in spans if s["kind"] == "producer"]
    assert len(sends) == 2 and len(carried) == 2
    assert [value.split("-")[2] for value in carried] == [s["span_id"] for s in sends]


def test_each_queue_keeps_its_own_attributes_across_calls_to_several_queues() -> None:
    """The hook prepares an SQS span's attributes once per queue (`sqs.KEYED_BY`): sends that alternate
    between queues, and a client in another region, still get each their own queue and region."""
    client = boto3.client("sqs", **CREDENTIALS)
    other_region = boto3.client("sqs", **{**CREDENTIALS, "region_name": "us-west-2"})
    urls = [QUEUE_URL, QUEUE_URL.replace("orders", "refunds"), QUEUE_URL, QUEUE_URL.replace("orders", "refunds")]

    def handler(event: Any, context: Any) -> Any:
        with Stubber(client) as stub, Stubber(other_region) as other:
            for url in urls:
                stub.add_response("send_message", {"MessageId": f"m-{len(url)}"})
                client.send_message(QueueUrl=url, MessageBody="x")
            other.add_response("send_message", {"MessageId": "m-west"})
            other_region.send_message(QueueUrl=QUEUE_URL, MessageBody="x")

    _, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    assert raised is None
    sent = sorted((s for s in spans if s["kind"] == "producer"), key=lambda s: s["start"])
    assert [s["attributes"]["aws.sqs.queue.url"] for s in sent] == [*urls, QUEUE_URL]
    assert [s["attributes"]["messaging.destination.name"] for s in sent] == [
        "orders", "refunds", "orders", "refunds", "orders"]
    assert [s["attributes"]["cloud.region"] for s in sent] == ["eu-west-1"] * 4 + ["us-west-2"]
    assert all(s["attributes"]["rpc.method"] == "SendMessage" for s in sent)
