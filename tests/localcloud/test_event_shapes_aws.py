"""Every event the local cloud delivers has at least the keys of AWS's own sample for that trigger.

The samples are the fixtures in tests/events/ (AWS-authored shapes); the local events are built by
the same functions the local cloud delivers with. Keys are compared level by level, so a missing
`requestContext.identity.accessKey` or `s3.object.sequencer` is named exactly.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
from typing import Any

import pytest

from hoptrace_localcloud.events.apigateway import HttpRequest, http_api_event, rest_event
from hoptrace_localcloud.events.cloudwatchlogs import subscription_payload
from hoptrace_localcloud.events.eventbridge import delivered_event, scheduled_event
from hoptrace_localcloud.events.s3 import completed_event
from hoptrace_localcloud.events.sns import sns_event
from hoptrace_localcloud.events.sqs import sqs_event
from hoptrace_localcloud.events.streams import dynamodb_record, kinesis_record
from hoptrace_localcloud.logstore import LogEvent
from tests.conftest import load_event

ACCOUNT, REGION = "123456789012", "us-east-1"
# Keys AWS sends only in some cases (a body, a cookie, a version id) are not required.
OPTIONAL = {"cookies", "body", "pathParameters", "queryStringParameters", "versionId", "md5OfMessageAttributes",
            "authorizer", "clientCert", "apiKey", "authentication", "cognitoAmr", "apiKeyId", "userArn"}


# Maps whose keys are the user's data (header names, parameters, attributes), not AWS's shape.
VALUE_MAPS = {"headers", "multiValueHeaders", "messageAttributes", "MessageAttributes", "detail", "stageVariables",
              "Keys", "NewImage", "OldImage", "queryStringParameters", "multiValueQueryStringParameters",
              "pathParameters"}


def missing_keys(aws: Any, local: Any, path: str = "") -> list[str]:
    """Keys of `aws` (recursively, into dicts and the first item of lists) that `local` lacks."""
    missing: list[str] = []
    if isinstance(aws, dict) and isinstance(local, dict):
        for key, value in aws.items():
            if key not in local:
                if key not in OPTIONAL:
                    missing.append(f"{path}{key}")
            elif key not in VALUE_MAPS:
                missing += missing_keys(value, local[key], f"{path}{key}.")
    elif isinstance(aws, list) and isinstance(local, list) and aws and local:
        missing += missing_keys(aws[0], local[0], f"{path}[0].")
    return missing


def request() -> HttpRequest:
    return HttpRequest("GET", "/orders/42", [("expand", "items")],
                       [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8"), ("Accept", "*/*")], b"")


def _moto_s3_notification() -> dict[str, Any]:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
                         "eventTime": "2026-12-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                         "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                                "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
                                "object": {"key": "k", "size": 1, "eTag": "e"}}}]}


def _kinesis() -> dict[str, Any]:
    raw = {"SequenceNumber": "4959", "ApproximateArrivalTimestamp": datetime.datetime.now(datetime.UTC),
           "Data": b"x", "PartitionKey": "p"}
    return {"Records": [kinesis_record(raw, "shardId-000000000000", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s",
                                       REGION, f"arn:aws:iam::{ACCOUNT}:role/r")]}


def _dynamodb() -> dict[str, Any]:
    raw = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
           "awsRegion": REGION, "dynamodb": {"ApproximateCreationDateTime": datetime.datetime.now(),
                                             "Keys": {"Id": {"N": "1"}}, "NewImage": {"Id": {"N": "1"}},
                                             "SequenceNumber": "111", "SizeBytes": 26,
                                             "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    return {"Records": [dynamodb_record(raw, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t/stream/x", REGION)]}


def _sqs() -> dict[str, Any]:
    message = {"MessageId": "m", "ReceiptHandle": "r", "MD5OfBody": "d", "Body": "b",
               "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s",
                              "ApproximateFirstReceiveTimestamp": "1", "AWSTraceHeader": "Root=1-a-b"}}
    return sqs_event([message], f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", REGION)


def _sns() -> dict[str, Any]:
    envelope = {"Type": "Notification", "MessageId": "m", "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
                "Subject": None, "Message": "x", "Timestamp": "2026-12-01T00:00:00.000Z", "SignatureVersion": "1",
                "Signature": "s", "SigningCertURL": "u", "UnsubscribeURL": "u", "MessageAttributes": {}}
    return sns_event(envelope, f"arn:aws:sns:{REGION}:{ACCOUNT}:t:sub")


def _logs() -> dict[str, Any]:
    event = LogEvent("/aws/lambda/f", "stream", 1, "hello", "3" * 56)
    return subscription_payload(ACCOUNT, "/aws/lambda/f", "stream", ["filter"], [event])


def _moto_rule_event() -> dict[str, Any]:  # what moto hands a rule's target (no `account`)
    return delivered_event({"version": "0", "id": "i", "detail-type": "PaymentSucceeded", "source": "shop",
                            "time": "2026-12-01T00:00:00Z", "region": REGION, "resources": [], "detail": {}},
                           ACCOUNT, REGION)


LOCAL = {
    "apigateway_v1": lambda: rest_event(request(), "/orders/{id}", {"id": "42"}, "Prod", "api", ACCOUNT),
    "apigateway_v2": lambda: http_api_event(request(), "GET /orders/{id}", {"id": "42"}, "$default", "api", ACCOUNT),
    "eventbridge": _moto_rule_event,
    "scheduled": lambda: scheduled_event(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r", ACCOUNT, REGION),
    "sqs": _sqs,
    "sns": _sns,
    "s3": lambda: completed_event(_moto_s3_notification()),
    "kinesis": _kinesis,
    "dynamodb_stream": _dynamodb,
    "cloudwatch_logs": _logs,
}


@pytest.mark.parametrize("trigger", sorted(LOCAL))
def test_delivered_event_has_every_key_of_the_aws_sample(trigger: str) -> None:
    # GIVEN AWS's sample for the trigger / WHEN the local cloud builds the same kind of event
    aws, local = load_event(trigger), LOCAL[trigger]()
    if trigger == "cloudwatch_logs":  # compare the decoded documents, not the base64
        aws, local = ({"awslogs": json.loads(gzip.decompress(base64.b64decode(e["awslogs"]["data"])))}
                      for e in (aws, local))
    # THEN nothing AWS always sends is missing
    assert missing_keys(aws, local) == []


def test_api_events_carry_the_headers_api_gateway_adds() -> None:
    rest = rest_event(request(), "/orders/{id}", {}, "Prod", "api", ACCOUNT)
    assert {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id"} <= set(rest["headers"])
    assert rest["headers"]["X-Forwarded-Port"] == "3000"
    v2 = http_api_event(request(), "GET /orders/{id}", {}, "$default", "api", ACCOUNT)
    assert {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-amzn-trace-id"} <= set(v2["headers"])
    # a trace header the caller sent is kept, not replaced
    sent = HttpRequest("GET", "/", [], [("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793")], b"")
    assert rest_event(sent, "/", {}, "Prod", "api", ACCOUNT)["headers"]["X-Amzn-Trace-Id"].endswith("72793")


def test_s3_keys_keep_their_slashes_and_form_encode_the_rest() -> None:
    notification = _moto_s3_notification()
    notification["Records"][0]["s3"]["object"]["key"] = "receipts%2Forder+42.json"
    [record] = completed_event(notification)["Records"]
    assert record["s3"]["object"]["key"] == "receipts/order+42.json"
