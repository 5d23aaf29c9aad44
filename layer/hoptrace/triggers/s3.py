"""S3 event notifications delivered straight to a function (`eventSource: aws:s3`).

Each record gets its own span, linked by the collector to the `PutObject`/`CopyObject`/
`CompleteMultipartUpload` span that wrote that object version (bucket, key, ETag).
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers import _s3
from hoptrace.triggers._messages import batch_invocation, first_record_from, records_of
from hoptrace.triggers.model import Invocation, Record

NAME = "s3"


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "eventSource", "aws:s3")


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records = []
    for index, raw in enumerate(records_of(event)):
        attributes = _s3.record_attributes(raw)
        if attributes is None:
            continue
        bucket = attributes.get(semconv.AWS_S3_BUCKET, "unknown")
        sequencer = raw["s3"].get("object", {}).get("sequencer") if isinstance(raw["s3"].get("object"), dict) else None
        message_id = str(sequencer or index)
        attributes[semconv.MESSAGING_MESSAGE_ID] = message_id
        attributes[semconv.MESSAGING_DESTINATION] = bucket
        records.append(Record(f"process {bucket}", message_id, None, attributes))
    bucket = records[0].attributes.get(semconv.AWS_S3_BUCKET, "unknown") if records else "unknown"
    invocation = batch_invocation(NAME, "aws_s3", bucket, records, faas_trigger="datasource")
    invocation.attributes[semconv.FAAS_DOCUMENT_COLLECTION] = bucket
    if records:
        invocation.attributes[semconv.FAAS_DOCUMENT_OPERATION] = records[0].attributes[
            semconv.FAAS_DOCUMENT_OPERATION]
    return invocation
