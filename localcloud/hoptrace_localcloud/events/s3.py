"""S3 event notifications as S3 delivers them (to a function, queue or topic) and S3 events on EventBridge.

moto writes a notification with only some of the keys S3 always sends (no `userIdentity`,
`requestParameters`, `responseElements`, bucket `ownerIdentity` or object `sequencer`); they are
filled in here so a handler meets the shape it will meet on AWS.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote_plus

_SEQUENCE = itertools.count(int(time.time() * 1000) << 16)
OWNER = "A3NL1KOZZKExample"
PRINCIPAL = "AWS:AIDAJDPLRKLG7UEXAMPLE"


def completed_record(record: dict[str, Any]) -> dict[str, Any]:
    """`record` (one of moto's notification records) with every key S3 sends."""
    shaped = {"eventVersion": "2.1", "eventSource": "aws:s3", **record}
    shaped.setdefault("userIdentity", {"principalId": PRINCIPAL})
    shaped.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    shaped.setdefault("responseElements", {"x-amz-request-id": secrets.token_hex(8).upper(),
                                           "x-amz-id-2": secrets.token_urlsafe(48)})
    s3 = dict(shaped.get("s3") or {})
    bucket = dict(s3.get("bucket") or {})
    bucket.setdefault("ownerIdentity", {"principalId": OWNER})
    obj = dict(s3.get("object") or {})
    obj.setdefault("sequencer", f"{next(_SEQUENCE):018X}")
    if isinstance(obj.get("key"), str):  # S3 form-encodes the key but keeps its slashes (moto encodes them)
        obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
    if not obj.get("versionId"):
        obj.pop("versionId", None)
    s3.update(bucket=bucket, object=obj)
    s3.setdefault("s3SchemaVersion", "1.0")
    shaped["s3"] = s3
    return shaped


def completed_event(notification: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [completed_record(r) for r in notification.get("Records") or [] if isinstance(r, dict)]}


_DETAIL_TYPES = {"ObjectCreated": "Object Created", "ObjectRemoved": "Object Deleted",
                 "ObjectRestore": "Object Restore Completed", "ObjectTagging": "Object Tags Added"}


def eventbridge_entry(record: dict[str, Any], bus: str = "default") -> dict[str, Any] | None:
    """The PutEvents entry S3 sends EventBridge for one object event (`source: aws.s3`)."""
    event_name = str(record.get("eventName", ""))
    detail_type = _DETAIL_TYPES.get(event_name.split(":", 1)[0])
    if detail_type is None:
        return None
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    bucket = (s3.get("bucket") or {}).get("name", "")
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": {"key": unquote_plus(str(obj.get("key", ""))), "size": obj.get("size", 0),
                   "etag": obj.get("eTag", ""), "sequencer": obj.get("sequencer", "")},
        "request-id": (record.get("responseElements") or {}).get("x-amz-request-id", str(uuid.uuid4())),
        "requester": "123456789012",
        "source-ip-address": (record.get("requestParameters") or {}).get("sourceIPAddress", "127.0.0.1"),
        "reason": {"ObjectCreated:Put": "PutObject", "ObjectCreated:Copy": "CopyObject",
                   "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
                   "ObjectCreated:Post": "PostObject"}.get(event_name, "DeleteObject"),
    }
    if obj.get("versionId"):
        detail["object"]["version-id"] = obj["versionId"]
    if detail_type == "Object Deleted":
        detail["deletion-type"] = "Permanently Deleted"
        detail["object"].pop("size", None)
    return {"Source": "aws.s3", "DetailType": detail_type, "Resources": [f"arn:aws:s3:::{bucket}"],
            "Detail": json.dumps(detail), "EventBusName": bus}
