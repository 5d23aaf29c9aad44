"""CloudWatch Logs subscription payloads: `{"awslogs": {"data": base64(gzip(json))}}`."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from ..logstore import LogEvent


def subscription_payload(owner: str, group: str, stream: str, filter_names: list[str],
                         events: list[LogEvent]) -> dict[str, Any]:
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": filter_names,
        "logEvents": [{"id": e.id, "timestamp": e.timestamp, "message": e.message} for e in events],
    }
    data = gzip.compress(json.dumps(document, separators=(",", ":")).encode())
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


def decode_subscription_payload(event: dict[str, Any]) -> dict[str, Any]:
    """The inverse, as a subscribed function (the collector) does it."""
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
