"""Kinesis and DynamoDB Streams records as Lambda's event source mapping hands them to a function,
built from what `GetRecords` returns, and the on-failure record Lambda sends a destination."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return time.time()


def kinesis_record(raw: dict[str, Any], shard_id: str, stream_arn: str, region: str, role_arn: str) -> dict[str, Any]:
    data = raw.get("Data", b"")
    encoded = base64.b64encode(data if isinstance(data, bytes) else str(data).encode()).decode()
    sequence = str(raw["SequenceNumber"])
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": raw.get("PartitionKey", ""),
                    "sequenceNumber": sequence, "data": encoded,
                    "approximateArrivalTimestamp": round(_epoch(raw.get("ApproximateArrivalTimestamp")), 3)},
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def dynamodb_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    stream = dict(raw.get("dynamodb") or {})
    stream["ApproximateCreationDateTime"] = float(int(_epoch(stream.get("ApproximateCreationDateTime"))))
    record = {
        "eventID": raw.get("eventID") or uuid.uuid4().hex,
        "eventName": raw.get("eventName", "MODIFY"),
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion") or region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
    if raw.get("userIdentity"):
        record["userIdentity"] = raw["userIdentity"]
    return record


def sequence_of(record: dict[str, Any]) -> str:
    """The id `batchItemFailures` names a stream record by."""
    if "kinesis" in record:
        return str(record["kinesis"]["sequenceNumber"])
    return str(record["dynamodb"].get("SequenceNumber", ""))


def failure_record(batch: list[dict[str, Any]], shard_id: str, stream_arn: str, function_arn: str,
                   attempts: int, error: dict[str, Any] | None) -> dict[str, Any]:
    """What Lambda sends an on-failure destination for a stream batch it gave up on."""
    kinesis = "kinesis" in batch[0]
    arrivals = [r["kinesis"]["approximateArrivalTimestamp"] if kinesis else
                r["dynamodb"]["ApproximateCreationDateTime"] for r in batch]
    info = {"shardId": shard_id, "startSequenceNumber": sequence_of(batch[0]),
            "endSequenceNumber": sequence_of(batch[-1]),
            "approximateArrivalOfFirstRecord": _iso(min(arrivals)),
            "approximateArrivalOfLastRecord": _iso(max(arrivals)), "batchSize": len(batch), "streamArn": stream_arn}
    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": function_arn,
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled" if error else ""},
        "version": "1.0",
        "timestamp": _iso(time.time()),
        ("KinesisBatchInfo" if kinesis else "DDBStreamBatchInfo"): info,
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"
