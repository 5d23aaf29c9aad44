"""What an S3 event notification record says, wherever it arrives (direct, SNS, SQS, EventBridge).

The object key in a notification is URL-encoded (`+` for a space); the producer's `PutObject`
sent it raw, so it is decoded before the link key is computed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from hoptrace import links, semconv

_OPERATIONS = {"ObjectCreated": "insert", "ObjectRemoved": "delete", "ObjectRestore": "edit",
               "ObjectTagging": "edit", "ObjectAcl": "edit", "LifecycleExpiration": "delete",
               "Object Created": "insert", "Object Deleted": "delete", "Object Restore Completed": "edit"}


def operation(event_name: Any) -> str:
    """OpenTelemetry's faas.document.operation (insert / edit / delete) for an S3 event name."""
    if not isinstance(event_name, str):
        return "edit"
    return _OPERATIONS.get(event_name.split(":", 1)[0], "edit")


def object_attributes(bucket: Any, raw_key: Any, etag: Any, version: Any, event_name: Any,
                      event_time: Any) -> dict[str, Any]:
    """Span attributes and the consumed link for one S3 object event."""
    object_key = unquote_plus(raw_key) if isinstance(raw_key, str) else None
    attributes: dict[str, Any] = {semconv.FAAS_DOCUMENT_OPERATION: operation(event_name),
                                  semconv.MESSAGING_SYSTEM: "aws_s3", semconv.MESSAGING_OPERATION: "process"}
    for name, value in ((semconv.AWS_S3_BUCKET, bucket), (semconv.FAAS_DOCUMENT_COLLECTION, bucket),
                        (semconv.AWS_S3_KEY, object_key), (semconv.FAAS_DOCUMENT_NAME, object_key),
                        (semconv.S3_ETAG, etag), (semconv.S3_VERSION_ID, version),
                        (semconv.S3_EVENT_NAME, event_name), (semconv.FAAS_DOCUMENT_TIME, event_time)):
        if isinstance(value, str) and value:
            attributes[name] = value[:1024]
    link = links.s3_object(bucket, object_key, etag)
    if link is not None:
        attributes[semconv.LINK_CONSUMED] = [link]
    return attributes


def record_attributes(record: dict[str, Any]) -> dict[str, Any] | None:
    """The attributes of an S3 notification record (`eventSource: aws:s3`), None for anything else."""
    s3 = record.get("s3")
    if record.get("eventSource") != "aws:s3" or not isinstance(s3, dict):
        return None
    bucket = found if isinstance(found := s3.get("bucket"), dict) else {}
    obj = found if isinstance(found := s3.get("object"), dict) else {}
    return object_attributes(bucket.get("name"), obj.get("key"), obj.get("eTag"), obj.get("versionId"),
                             record.get("eventName"), record.get("eventTime"))


def notification_in(body: Any) -> list[dict[str, Any]] | None:
    """S3 notification records inside an SNS message or SQS body (S3 writes them as JSON text)."""
    if not isinstance(body, str) or '"aws:s3"' not in body[:2048]:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    records = parsed.get("Records") if isinstance(parsed, dict) else None
    if not isinstance(records, list):
        return None
    found = [a for a in (record_attributes(r) for r in records if isinstance(r, dict)) if a is not None]
    return found or None


def merge_upstream(attributes: dict[str, Any], body: Any) -> None:
    """Mark a message record that carries an S3 notification and link it to the object's writer."""
    found = notification_in(body)
    if not found:
        return
    first = found[0]
    attributes[semconv.UPSTREAM] = "s3:" + str(first.get(semconv.AWS_S3_BUCKET, "unknown"))
    for name in (semconv.AWS_S3_BUCKET, semconv.AWS_S3_KEY, semconv.S3_EVENT_NAME, semconv.S3_ETAG):
        if name in first:
            attributes[name] = first[name]
    consumed = [k for a in found for k in a.get(semconv.LINK_CONSUMED, ())]
    if consumed:
        attributes[semconv.LINK_CONSUMED] = consumed[: links.MAX_KEYS]
