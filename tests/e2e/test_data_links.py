"""S3 -> Lambda, DynamoDB stream -> Lambda and Kinesis -> Lambda in the local cloud, each consumer linked
to the span of the function that wrote the data, through the collector's store.

Real parts: the SAM template is translated by samtranslator (S3 events become the bucket's
NotificationConfiguration, stream events EventSourceMappings), moto's server holds the bucket, the
table's stream and the Kinesis stream, functions run in worker processes with the layer attached,
their log lines go through the collector into a SQLite store, and the links are resolved there.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store
from hoptrace_collector.store.links import trace_links
from hoptrace_localcloud.cloud import LocalCloud
from tests.collector.payloads import subscription_event
from tests.e2e.test_traced_app import build_app
from tests.layer.spans import decode_output

pytestmark = pytest.mark.e2e

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Timeout: 60
    MemorySize: 256
    Layers: [!Ref HoptraceLayer]
    Environment:
      Variables:
        AWS_LAMBDA_EXEC_WRAPPER: /opt/hoptrace-exec-wrapper
        BUCKET: !Ref Receipts
        TABLE: !Ref Orders
        STREAM: !Ref Clicks
Resources:
  HoptraceLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
  Receipts:
    Type: AWS::S3::Bucket
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  FailedClicks:
    Type: AWS::SQS::Queue
  WriterFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: writer/
      Handler: app.handler
      Events:
        Write: {Type: HttpApi, Properties: {Path: /write, Method: post}}
  ArchiverFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: consumer/
      Handler: app.handler
      Events:
        Receipt:
          Type: S3
          Properties:
            Bucket: !Ref Receipts
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: receipts/}]}}
  AnalyticsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: consumer/
      Handler: app.handler
      Events:
        Changes:
          Type: DynamoDB
          Properties: {Stream: !GetAtt Orders.StreamArn, StartingPosition: TRIM_HORIZON, BatchSize: 10}
  ClicksFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: consumer/
      Handler: app.handler
      Events:
        Clicks:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            MaximumBatchingWindowInSeconds: 1
            MaximumRetryAttempts: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
            DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt FailedClicks.Arn}}
"""
HANDLERS = {
    "writer": """
import json, os, boto3
def handler(event, context):
    if event.get("warmup"):
        return {}
    s3, dynamodb, kinesis = boto3.client("s3"), boto3.resource("dynamodb"), boto3.client("kinesis")
    s3.put_object(Bucket=os.environ["BUCKET"], Key="receipts/order 42.json", Body=b'{"total": 12}')
    s3.put_object(Bucket=os.environ["BUCKET"], Key="drafts/ignored.json", Body=b"{}")
    dynamodb.Table(os.environ["TABLE"]).put_item(Item={"pk": "order-42", "total": 12})
    kinesis.put_records(StreamName=os.environ["STREAM"], Records=[
        {"Data": b"click-1", "PartitionKey": "a"}, {"Data": b"poison", "PartitionKey": "a"},
        {"Data": b"click-3", "PartitionKey": "a"}])
    return {"statusCode": 200, "body": "{}"}
""",
    "consumer": """
import base64, json
def handler(event, context):
    if event.get("warmup"):
        return {}
    print("EVENT " + json.dumps(event))
    failures = [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event.get("Records", [])
                if "kinesis" in r and base64.b64decode(r["kinesis"]["data"]) == b"poison"]
    return {"batchItemFailures": failures}
""",
}


FUNCTIONS = ("WriterFunction", "ArchiverFunction", "AnalyticsFunction", "ClicksFunction")


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def warm(cloud: LocalCloud, functions: tuple[str, ...]) -> None:
    """Start each function's worker before the test: a cold start on a machine this busy can pass
    Lambda's 10 s init limit, and a stream consumer would then count it as a failed attempt."""
    for function in functions:
        pool = cloud.function(function)
        for _attempt in range(6):
            if not pool.invoke({"warmup": True}).failed:
                break
        else:
            raise AssertionError(f"{function} never finished its init")


def write(cloud: LocalCloud) -> None:
    request = urllib.request.Request(f"{cloud.api_url}/write", data=b"{}", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            assert response.status == 200
    except urllib.error.HTTPError as error:
        raise AssertionError([line[:300] for line in cloud.log_lines("WriterFunction")]) from error


def events_of(cloud: LocalCloud, function: str) -> list[dict[str, Any]]:
    return [json.loads(line.split("EVENT ", 1)[1]) for line in cloud.log_lines(function) if "EVENT " in line]


def test_s3_dynamodb_and_kinesis_consumers_link_to_the_writer(tmp_path: Path) -> None:
    template = build_app(tmp_path, TEMPLATE, HANDLERS)
    store = open_store(f"sqlite:///{tmp_path}/spans.db")
    with LocalCloud(template, sqs_visibility_timeout=2) as cloud:
        # WHEN the writer puts an object, an item and three Kinesis records (one the consumer rejects)
        warm(cloud, FUNCTIONS)
        write(cloud)
        # THEN each consumer is invoked by its source: S3 for the receipts/ prefix only
        [s3_event] = wait_for(lambda: events_of(cloud, "ArchiverFunction"))
        wait_for(lambda: events_of(cloud, "AnalyticsFunction"))
        # the poison record is retried once from itself, then goes to the on-failure queue
        failed = wait_for(lambda: cloud.client("sqs").receive_message(
            QueueUrl=cloud.resource("FailedClicks").url, WaitTimeSeconds=1).get("Messages"))
        time.sleep(1.0)  # nothing else arrives late: the S3 filter held
        assert len(events_of(cloud, "ArchiverFunction")) == 1
        clicks = events_of(cloud, "ClicksFunction")
        lines = {f: cloud.log_lines(f) for f in FUNCTIONS}
    [record] = s3_event["Records"]
    assert record["s3"]["object"]["key"] == "receipts/order+42.json"
    assert {"userIdentity", "requestParameters", "responseElements"} <= set(record)
    # the batch of three, then two retries from the poison record, then the on-failure queue with the rest
    poison = clicks[0]["Records"][1]["kinesis"]["sequenceNumber"]
    assert [len(e["Records"]) for e in clicks] == [3, 2, 2]
    assert {e["Records"][0]["kinesis"]["sequenceNumber"] for e in clicks[1:]} == {poison}
    info = json.loads(failed[0]["Body"])["KinesisBatchInfo"]
    assert info["batchSize"] == 2 and info["startSequenceNumber"] == poison
    deliveries = sum(len(e["Records"]) for e in clicks)

    # AND through the collector, each consumer's record span is linked to the writer's client span
    ingestor = Ingestor(store)
    for function, function_lines in lines.items():
        ingestor.ingest(subscription_event([line for line in function_lines if line.startswith("HOPTRACE")],
                                           group=f"/aws/lambda/{function}"))
    writer_spans = decode_output("\n".join(lines["WriterFunction"]))[0]
    writes = {s["attributes"]["rpc.method"]: s for s in writer_spans
              if s["attributes"].get("hoptrace.link.produced")
              and not s["attributes"].get("aws.s3.key", "").startswith("drafts/")}
    assert set(writes) == {"PutObject", "PutItem", "PutRecords"}
    writer_trace = writes["PutItem"]["trace_id"]
    links = trace_links(store, writer_trace)
    by_producer: dict[str, list[Any]] = {}
    for link in links:
        by_producer.setdefault(link.producer_span_id, []).append(link)
    assert len(by_producer[writes["PutObject"]["span_id"]]) == 1
    assert len(by_producer[writes["PutItem"]["span_id"]]) == 1
    # every delivery of the three Kinesis records links back, retries included
    assert len(by_producer[writes["PutRecords"]["span_id"]]) == deliveries
    assert all(link.consumer_trace_id != writer_trace for link in links)

    # AND the partial batch failure shows per record: the poison record's span failed, the others did not
    click_spans = decode_output("\n".join(lines["ClicksFunction"]))[0]
    records = [s for s in click_spans if s["kind"] == "consumer" and "faas.coldstart" not in s["attributes"]]
    failed_spans = [s for s in records if s["status"]["code"] == "error"]
    assert len(records) == deliveries and len(failed_spans) == len(clicks)
    assert {s["attributes"]["messaging.message.id"] for s in failed_spans} == {poison}
    store.close()
