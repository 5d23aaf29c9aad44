"""Kinesis Data Streams batches (`eventSource: aws:kinesis`): one span per record.

`sequenceNumber` is the record's id (what `batchItemFailures` names) and, with the stream, its
link key: the collector joins it to the `PutRecord(s)` span whose response returned it.
"""

from __future__ import annotations

from typing import Any

from hoptrace import links, semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import batch_invocation, first_record_from, records_of, wait_ms_since
from hoptrace.triggers.model import Invocation, Record

NAME = "kinesis"


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "eventSource", "aws:kinesis")


def stream_of(arn: Any) -> str:
    return links.stream_name(arn) if isinstance(arn, str) and arn else "unknown"


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    raw = records_of(event)
    records = [_record(r) for r in raw]
    stream = stream_of(raw[0].get("eventSourceARN")) if raw else "unknown"
    invocation = batch_invocation(NAME, "aws_kinesis", stream, records)
    invocation.attributes[semconv.AWS_KINESIS_STREAM] = stream
    shard = event.get("shardId")
    if isinstance(shard, str):  # tumbling-window invocations name their shard
        invocation.attributes[semconv.MESSAGING_PARTITION] = shard
    return invocation


def _record(record: dict[str, Any]) -> Record:
    data = found if isinstance(found := record.get("kinesis"), dict) else {}
    stream = stream_of(record.get("eventSourceARN"))
    sequence = str(data.get("sequenceNumber") or "")
    attributes: dict[str, Any] = {
        semconv.MESSAGING_SYSTEM: "aws_kinesis",
        semconv.MESSAGING_OPERATION: "process",
        semconv.MESSAGING_DESTINATION: stream,
        semconv.MESSAGING_MESSAGE_ID: sequence,
    }
    event_id = record.get("eventID")
    if isinstance(event_id, str) and ":" in event_id:
        attributes[semconv.MESSAGING_PARTITION] = event_id.split(":", 1)[0]
    if isinstance(data.get("partitionKey"), str):
        attributes[semconv.KINESIS_PARTITION_KEY] = data["partitionKey"][:256]
    arrival = data.get("approximateArrivalTimestamp")
    if isinstance(arrival, (int, float)) and not isinstance(arrival, bool):
        wait = wait_ms_since(arrival * 1000.0)
        if wait is not None:
            attributes[semconv.QUEUE_WAIT_MS] = round(wait, 3)
    link = links.kinesis_record(stream, sequence)
    if link is not None:
        attributes[semconv.LINK_CONSUMED] = [link]
    return Record(f"process {stream}", sequence, None, attributes)
