"""Kinesis Data Firehose transformation batches (`deliveryStreamArn` + `records`).

A record from a Kinesis source stream keeps its sequence number, so it links to the
`PutRecord(s)` that wrote it into that stream.
"""

from __future__ import annotations

from typing import Any

from hoptrace import links, semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import batch_invocation, name_from_arn
from hoptrace.triggers.model import Invocation, Record

NAME = "firehose"


def matches(event: dict[str, Any]) -> bool:
    return isinstance(event.get("deliveryStreamArn"), str) and isinstance(event.get("records"), list)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    delivery = name_from_arn(event["deliveryStreamArn"].replace("/", ":"))
    source = event.get("sourceKinesisStreamArn")
    records = []
    for raw in event["records"]:
        if not isinstance(raw, dict):
            continue
        record_id = str(raw.get("recordId", ""))
        attributes: dict[str, Any] = {semconv.MESSAGING_SYSTEM: "aws_firehose", semconv.MESSAGING_OPERATION: "process",
                                      semconv.MESSAGING_DESTINATION: delivery, semconv.MESSAGING_MESSAGE_ID: record_id}
        meta = raw.get("kinesisRecordMetadata")
        if isinstance(meta, dict) and isinstance(source, str):
            link = links.kinesis_record(source, meta.get("sequenceNumber"))
            if link is not None:
                attributes[semconv.LINK_CONSUMED] = [link]
                attributes[semconv.UPSTREAM] = "kinesis:" + links.stream_name(source)
        records.append(Record(f"process {delivery}", record_id, None, attributes))
    invocation = batch_invocation(NAME, "aws_firehose", delivery, records)
    invocation.name = f"transform {delivery}"
    return invocation
