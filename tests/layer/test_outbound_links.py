"""Producer side of the links AWS carries no context for: S3 objects, DynamoDB items, Kinesis records.

Real botocore clients against moto in-process: the writer's client span lists the link keys of
what it wrote, and the keys equal those the consumer computes from the records the service
hands on (moto's DynamoDB stream records and Kinesis GetRecords, S3's notification shape).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from hoptrace import links
from hoptrace.config import Config
from hoptrace.triggers import detect
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import run

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws() -> Any:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def client_spans(spans: list[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["attributes"].get("rpc.method") == method]


def traced(body: Any) -> list[dict[str, Any]]:
    def handler(event: Any, context: Any) -> Any:
        body()
        return "ok"

    _, raised, spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    assert raised is None
    return spans


def test_s3_put_copy_and_multipart_record_the_object_version_they_wrote() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="receipts")

    def body() -> None:
        s3.put_object(Bucket="receipts", Key="order 42.json", Body=b"{}")
        s3.copy_object(Bucket="receipts", Key="archive/order 42.json",
                       CopySource={"Bucket": "receipts", "Key": "order 42.json"})
        upload = s3.create_multipart_upload(Bucket="receipts", Key="big.bin")
        part = s3.upload_part(Bucket="receipts", Key="big.bin", UploadId=upload["UploadId"], PartNumber=1,
                              Body=b"x" * 10)
        s3.complete_multipart_upload(Bucket="receipts", Key="big.bin", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})

    spans = traced(body)
    for method, key in (("PutObject", "order 42.json"), ("CopyObject", "archive/order 42.json"),
                        ("CompleteMultipartUpload", "big.bin")):
        [span] = client_spans(spans, method)
        head = s3.head_object(Bucket="receipts", Key=key)
        # THEN the key is the one a notification for that object version gives its consumer
        notification = load_event("s3")
        record = notification["Records"][0]["s3"]
        record["bucket"]["name"], record["object"]["key"] = "receipts", key.replace(" ", "+")
        record["object"]["eTag"] = head["ETag"].strip('"')
        [consumer] = detect(notification, LambdaContext(), Config()).records
        assert span["attributes"]["hoptrace.link.produced"] == consumer.attributes["hoptrace.link.consumed"]
        assert span["attributes"]["aws.s3.bucket"] == "receipts"


def _table(name: str) -> Any:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST",
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return dynamodb


def _stream_event(table: str) -> dict[str, Any]:
    """The table's stream records as Lambda would deliver them (moto's GetRecords, Lambda's envelope)."""
    arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    # botocore's account-based streams endpoint is not one moto routes; name the classic one.
    streams = boto3.client("dynamodbstreams", region_name=REGION,
                           endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return {"Records": [{**{k: v for k, v in r.items() if k != "dynamodb"}, "eventSource": "aws:dynamodb",
                         "eventSourceARN": arn, "dynamodb": {
                             k: v for k, v in r["dynamodb"].items() if k != "ApproximateCreationDateTime"}}
                        for r in records]}


def test_dynamodb_writes_link_to_the_stream_records_they_cause() -> None:
    dynamodb = _table("orders")
    table = boto3.resource("dynamodb", region_name=REGION).Table("orders")

    def body() -> None:
        dynamodb.put_item(TableName="orders", Item={"pk": {"S": "o-1"}, "total": {"N": "12.50"}})
        dynamodb.update_item(TableName="orders", Key={"pk": {"S": "o-1"}}, UpdateExpression="SET paid = :t",
                             ExpressionAttributeValues={":t": {"BOOL": True}})
        table.put_item(Item={"pk": "o-2", "total": Decimal("3"), "tags": {"a", "b"}})
        dynamodb.batch_write_item(RequestItems={"orders": [{"PutRequest": {"Item": {"pk": {"S": "o-3"}}}}]})
        dynamodb.transact_write_items(TransactItems=[{"Delete": {"TableName": "orders", "Key": {"pk": {"S": "o-3"}}}}])
        dynamodb.delete_item(TableName="orders", Key={"pk": {"S": "o-2"}})

    spans = traced(body)
    produced = {method: client_spans(spans, method)[0]["attributes"]["hoptrace.link.produced"]
                for method in ("PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems", "DeleteItem")}
    resource_put = client_spans(spans, "PutItem")[1]["attributes"]["hoptrace.link.produced"]
    consumed = [r.attributes["hoptrace.link.consumed"] for r in detect(
        _stream_event("orders"), LambdaContext(), Config()).records]
    # THEN every stream record is claimed by exactly the write that caused it
    writes = [produced["PutItem"], produced["UpdateItem"], resource_put, produced["BatchWriteItem"],
              produced["TransactWriteItems"], produced["DeleteItem"]]
    assert len(consumed) == len(writes)
    for wrote, read in zip(writes, consumed, strict=True):
        assert set(wrote) & set(read), (wrote, read)
    assert client_spans(spans, "PutItem")[0]["attributes"]["aws.dynamodb.table_names"] == ["orders"]


def test_kinesis_put_records_list_the_sequence_numbers_the_consumer_sees() -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=1)

    def body() -> None:
        kinesis.put_record(StreamName="clicks", Data=b"a", PartitionKey="p")
        kinesis.put_records(StreamName="clicks", Records=[{"Data": b"b", "PartitionKey": "p"},
                                                          {"Data": b"c", "PartitionKey": "q"}])

    spans = traced(body)
    produced = client_spans(spans, "PutRecord")[0]["attributes"]["hoptrace.link.produced"] + \
        client_spans(spans, "PutRecords")[0]["attributes"]["hoptrace.link.produced"]
    shard = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="clicks", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert produced == [links.kinesis_record("clicks", r["SequenceNumber"]) for r in records]


def test_a_failed_write_records_no_link_and_the_error_passes_through() -> None:
    _table("orders")
    dynamodb = boto3.client("dynamodb", region_name=REGION)

    def handler(event: Any, context: Any) -> Any:
        dynamodb.put_item(TableName="orders", Item={"pk": {"S": "o-1"}}, ConditionExpression="attribute_exists(pk)")

    _, raised, spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    assert type(raised).__name__ == "ConditionalCheckFailedException"
    assert "hoptrace.link.produced" not in client_spans(spans, "PutItem")[0]["attributes"]
