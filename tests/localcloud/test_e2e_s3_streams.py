"""S3 notifications to queues, topics and EventBridge, and a Kinesis mapping that bisects a failing batch (the
consumer traced: each try is a stored kinesis invocation, the failed ones failed)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from hoptrace import semconv
from hoptrace_localcloud.cloud import LocalCloud

from .conftest import FAST, receive_one
from .traced import TracedStore, traced_app

pytestmark = pytest.mark.e2e

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::SQS::Queue
  TopicCopies:
    Type: AWS::SQS::Queue
  BusCopies:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
  TopicToQueue:
    Type: AWS::SNS::Subscription
    Properties: {TopicArn: !Ref Topic, Protocol: sqs, Endpoint: !GetAtt TopicCopies.Arn, RawMessageDelivery: true}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        QueueConfigurations:
          - {Event: "s3:ObjectCreated:*", Queue: !GetAtt Uploads.Arn,
             Filter: {S3Key: {Rules: [{Name: suffix, Value: .csv}]}}}
        TopicConfigurations:
          - {Event: "s3:ObjectRemoved:*", Topic: !Ref Topic}
        EventBridgeConfiguration: {EventBridgeEnabled: true}
  ObjectRule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.s3], detail-type: [Object Created]}
      Targets: [{Id: q, Arn: !GetAtt BusCopies.Arn}]
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  ClicksFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.13
      Events:
        Clicks:
          Type: Kinesis
          Properties: {Stream: !GetAtt Clicks.Arn, StartingPosition: TRIM_HORIZON, BatchSize: 4,
                       MaximumBatchingWindowInSeconds: 2, BisectBatchOnFunctionError: true,
                       MaximumRetryAttempts: 3}
"""
HANDLER = """
import base64
def handler(event, context):
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    print("BATCH " + ",".join(data))
    if "poison" in data:
        raise ValueError("poison in batch")
    return {}
"""


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root: Path = tmp_path_factory.mktemp("s3streams")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(HANDLER)
    (root / "template.yaml").write_text(TEMPLATE)
    with LocalCloud(traced_app(root, root), FAST) as running:
        store = TracedStore(running, root)
        yield running, store
        store.close()


@pytest.fixture
def cloud(traced: tuple[LocalCloud, TracedStore]) -> LocalCloud:
    return traced[0]


def test_s3_notifies_a_queue_a_topic_and_eventbridge_in_s3s_shapes(cloud: Any) -> None:
    s3, bucket = cloud.client("s3"), cloud.resource("Bucket").ref
    # WHEN objects are written and deleted
    s3.put_object(Bucket=bucket, Key="reports/2026 q4.csv", Body=b"a,b")
    s3.put_object(Bucket=bucket, Key="reports/readme.txt", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="reports/readme.txt")
    # THEN the queue gets the .csv creation only, as S3's JSON with the key form-encoded
    bodies = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any("Records" in b for b in bodies):
        bodies.append(json.loads(receive_one(cloud, "Uploads")["Body"]))
    [record] = next(b for b in bodies if "Records" in b)["Records"]
    assert (record["eventName"], record["s3"]["object"]["key"]) == ("ObjectCreated:Put", "reports/2026+q4.csv")
    assert {"userIdentity", "requestParameters", "responseElements"} <= set(record)
    # AND the topic gets the removal
    removal = None
    while removal is None:
        body = json.loads(receive_one(cloud, "TopicCopies")["Body"])
        removal = body if "Records" in body else None
    assert removal["Records"][0]["eventName"].startswith("ObjectRemoved:")
    # AND EventBridge gets `Object Created` events from aws.s3, with the key decoded
    event = json.loads(receive_one(cloud, "BusCopies")["Body"])
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    assert event["detail"]["bucket"]["name"] == bucket
    assert event["detail"]["object"]["key"] in {"reports/2026 q4.csv", "reports/readme.txt"}


def test_a_failing_kinesis_batch_is_bisected_down_to_the_bad_record(traced: tuple[LocalCloud, TracedStore]) -> None:
    cloud, store = traced
    kinesis = cloud.client("kinesis")
    # WHEN four records arrive together and one makes the function raise
    kinesis.put_records(StreamName=cloud.resource("Clicks").ref, Records=[
        {"Data": data.encode(), "PartitionKey": "p"} for data in ("a", "b", "poison", "d")])

    def batches() -> list[str]:
        return [line.split("BATCH ", 1)[1] for line in cloud.log_lines("ClicksFunction") if "BATCH " in line]

    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(batches()) < 6:
        time.sleep(0.2)
    # THEN the batch is split in halves until the poison record stands alone; it is tried until its three
    # retries are spent (the first try and the splits count), then skipped and the rest goes on
    time.sleep(1.0)
    assert batches() == ["a,b,poison,d", "a,b", "poison,d", "poison", "poison", "d"]
    # AND each try is a traced kinesis invocation in the store; the four that held the poison record failed
    tries = store.invocations("ClicksFunction", semconv.TRIGGER_KINESIS, count=6)
    assert len(tries) == 6 and [t.status == "error" for t in tries].count(True) == 4
