"""Event shapes handed to functions match AWS's, field by field."""

from __future__ import annotations

import base64

from hoptrace_localcloud.events.apigateway import (
    HttpRequest,
    http_api_event,
    http_api_response,
    rest_event,
    rest_response,
)
from hoptrace_localcloud.events.cloudwatchlogs import decode_subscription_payload, subscription_payload
from hoptrace_localcloud.events.destinations import dead_letter_attributes, on_failure_record
from hoptrace_localcloud.events.sns import sns_record
from hoptrace_localcloud.events.sqs import sqs_record
from hoptrace_localcloud.logstore import LogEvent

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:q"


def test_sqs_record_has_lambda_shape():
    # GIVEN a message as ReceiveMessage returns it
    message = {
        "MessageId": "m-1", "ReceiptHandle": "rh", "MD5OfBody": "md5", "Body": "hello",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000",
                       "AWSTraceHeader": "Root=1-65a1b2c3-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"},
        "MessageAttributes": {"traceparent": {"DataType": "String", "StringValue": "00-abc-def-01"},
                              "blob": {"DataType": "Binary", "BinaryValue": b"\x01"}},
    }
    # WHEN it becomes an event record
    record = sqs_record(message, QUEUE_ARN, "us-east-1")
    # THEN keys are camelCase as Lambda's, attributes kept, message attributes reshaped
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert record["attributes"]["AWSTraceHeader"].startswith("Root=1-65a1b2c3")
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["traceparent"] == {
        "stringValue": "00-abc-def-01", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    assert record["messageAttributes"]["blob"]["binaryValue"] == base64.b64encode(b"\x01").decode()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", QUEUE_ARN,
                                                                                      "us-east-1")


def test_sns_record_from_envelope():
    # GIVEN the SNS envelope moto writes to SQS
    envelope = {"Type": "Notification", "MessageId": "id", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "m",
                "Timestamp": "2024-01-01T00:00:00.000Z", "SignatureVersion": "1", "Signature": "s",
                "SigningCertURL": "https://cert", "UnsubscribeURL": "https://unsub",
                "MessageAttributes": {"traceparent": {"Type": "String", "Value": "00-a-b-01"}}}
    # WHEN it becomes a Lambda SNS record
    record = sns_record(envelope, "arn:aws:sns:us-east-1:1:t:sub")
    # THEN it has Lambda's spelling and the attributes in {Type, Value}
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == "arn:aws:sns:us-east-1:1:t:sub"
    assert record["Sns"]["SigningCertUrl"] == "https://cert"
    assert record["Sns"]["UnsubscribeUrl"] == "https://unsub"
    assert record["Sns"]["Subject"] is None
    assert record["Sns"]["MessageAttributes"]["traceparent"] == {"Type": "String", "Value": "00-a-b-01"}


def _request(**kwargs) -> HttpRequest:
    defaults = {"method": "GET", "path": "/items/7", "query": [("a", "1"), ("a", "2")],
                "headers": [("Host", "x"), ("Cookie", "c1=1; c2=2"), ("X-Amzn-Trace-Id", "Root=1-a-b")],
                "body": b""}
    return HttpRequest(**{**defaults, **kwargs})


def test_rest_event_v1_shape():
    event = rest_event(_request(), "/items/{id}", {"id": "7"}, "Prod", "api", "123456789012")
    assert event["resource"] == "/items/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["headers"]["X-Amzn-Trace-Id"] == "Root=1-a-b"
    assert event["requestContext"]["stage"] == "Prod"
    assert event["requestContext"]["path"] == "/Prod/items/7"
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_rest_event_body_is_base64_only_for_the_apis_binary_media_types():
    form = _request(method="POST", body=b"a=1&b=%C3%A9",
                    headers=[("Content-Type", "application/x-www-form-urlencoded")])
    event = rest_event(form, "/items", {}, "Prod", "api", "123456789012")
    assert event["isBase64Encoded"] is False and event["body"] == "a=1&b=%C3%A9"
    png = _request(method="POST", body=b"\x89PNG\xff", headers=[("Content-Type", "image/png")])
    event = rest_event(png, "/items", {}, "Prod", "api", "123456789012", ("image~1*",))
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x89PNG\xff"
    event = rest_event(form, "/items", {}, "Prod", "api", "123456789012", ("*/*",))
    assert event["isBase64Encoded"] is True


def test_http_api_event_v2_shape_and_binary_body():
    event = http_api_event(_request(method="POST", body=b"\xff\x00", headers=[("Content-Type", "image/png")]),
                           "POST /items/{id}", {"id": "7"}, "$default", "api", "123456789012")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawQueryString"] == "a=1&a=2"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["headers"]["content-type"] == "image/png"
    assert set(event["headers"]) == {"content-type", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port",
                                     "x-amzn-trace-id"}  # the headers API Gateway adds
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"


def test_http_api_cookies_are_separate():
    event = http_api_event(_request(), "GET /items/{id}", {"id": "7"}, "$default", "api", "1")
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert "cookie" not in event["headers"]


def test_responses_map_back():
    # v1: status, headers, multi-value headers, base64 body; missing statusCode is a 502
    response = rest_response({"statusCode": 201, "headers": {"A": "1"}, "multiValueHeaders": {"B": ["x", "y"]},
                              "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True})
    assert (response.status, response.body) == (201, b"\x01")
    assert response.headers == [("A", "1"), ("B", "x"), ("B", "y")]
    assert rest_response({"body": "x"}).status == 502
    # v2: a bare value becomes a 200 JSON body; cookies become Set-Cookie
    assert http_api_response({"ok": True}).body == b'{"ok": true}'
    assert ("Set-Cookie", "s=1") in http_api_response({"statusCode": 200, "cookies": ["s=1"]}).headers


def test_subscription_payload_round_trips():
    events = [LogEvent("/aws/lambda/f", "s", 1700000000000, "line one", "1" * 56)]
    payload = subscription_payload("123456789012", "/aws/lambda/f", "s", ["filter"], events)
    assert set(payload) == {"awslogs"}
    document = decode_subscription_payload(payload)
    assert document == {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f",
                        "logStream": "s", "subscriptionFilters": ["filter"],
                        "logEvents": [{"id": "1" * 56, "timestamp": 1700000000000, "message": "line one"}]}


def test_failure_destinations_carry_lambda_attributes():
    attributes = dead_letter_attributes("req", {"errorMessage": "boom"})
    assert attributes == {"RequestID": {"DataType": "String", "StringValue": "req"},
                          "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                          "ErrorMessage": {"DataType": "String", "StringValue": "boom"}}
    record = on_failure_record("req", "arn:fn", {"e": 1}, {"errorMessage": "boom"}, 3)
    assert record["requestContext"] == {"requestId": "req", "functionArn": "arn:fn:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["responseContext"]["functionError"] == "Unhandled"
