"""S3 events delivered through EventBridge (`source: aws.s3`, `detail-type: Object Created`, ...).

Tried before the generic EventBridge trigger so the object gets the data-source attributes
and the link to the function that wrote it.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers import _s3
from hoptrace.triggers._messages import simple_invocation
from hoptrace.triggers.model import Invocation

NAME = "s3_eventbridge"


def matches(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.s3" and "detail-type" in event and isinstance(event.get("detail"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    detail = event["detail"]
    bucket = found if isinstance(found := detail.get("bucket"), dict) else {}
    obj = found if isinstance(found := detail.get("object"), dict) else {}
    name = bucket.get("name") if isinstance(bucket.get("name"), str) else "unknown"
    attributes = _s3.object_attributes(name, obj.get("key"), obj.get("etag"), obj.get("version-id"),
                                       event.get("detail-type"), event.get("time"))
    attributes[semconv.MESSAGING_SYSTEM] = "aws_eventbridge"
    attributes[semconv.EVENTBRIDGE_SOURCE] = "aws.s3"
    attributes[semconv.EVENTBRIDGE_DETAIL_TYPE] = str(event.get("detail-type"))
    if isinstance(event.get("id"), str):
        attributes[semconv.MESSAGING_MESSAGE_ID] = event["id"]
    return simple_invocation(NAME, f"process {name}", "consumer", "datasource", attributes)
