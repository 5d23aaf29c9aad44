"""EventBridge PutEvents: context in `detail._hoptrace` (targets never see `TraceHeader`).

`TraceHeader` is set too, for X-Ray's own view. An entry whose `Detail` is not a JSON
object is left exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

from hoptrace import health
from hoptrace.propagation import TRACEPARENT
from hoptrace.triggers.eventbridge import DETAIL_KEY

MAX_ENTRY_BYTES = 256 * 1024


def put_events(params: dict[str, Any], traceparent: str, xray: str) -> None:
    for entry in params.get("Entries") or ():
        if isinstance(entry, dict):
            _inject(entry, traceparent, xray)


def _inject(entry: dict[str, Any], traceparent: str, xray: str) -> None:
    raw = entry.get("Detail")
    if not isinstance(raw, str):
        return
    try:
        detail = json.loads(raw)
    except ValueError:
        return
    if not isinstance(detail, dict) or DETAIL_KEY in detail:
        return
    detail[DETAIL_KEY] = {TRACEPARENT: traceparent}
    encoded = json.dumps(detail, separators=(",", ":"))
    if len(encoded.encode()) + len(str(entry.get("DetailType", ""))) + len(str(entry.get("Source", ""))) \
            > MAX_ENTRY_BYTES:
        health.skipped("eventbridge.size_limit", "an EventBridge entry would pass the 256 KB limit")
        return
    entry["Detail"] = encoded
    entry.setdefault("TraceHeader", xray)
