"""EventBridge PutEvents: context in `detail._hoptrace` (targets never see `TraceHeader`).

`TraceHeader` is set too, for X-Ray's own view. An entry whose `Detail` is not a JSON
object is left exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hoptrace import health, semconv
from hoptrace.outbound.entries import inject_each
from hoptrace.outbound.names import last_part, str_list
from hoptrace.propagation import TRACEPARENT
from hoptrace.triggers.eventbridge import DETAIL_KEY

MAX_ENTRY_BYTES = 256 * 1024


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    entries = [e for e in params.get("Entries") or () if isinstance(e, Mapping)]
    if operation != "PutEvents" or not entries:
        return {}
    return {
        semconv.EVENTBRIDGE_BUSES: sorted({last_part(e.get("EventBusName") or "default", "/") for e in entries}),
        semconv.EVENTBRIDGE_DETAIL_TYPES: sorted({str(e.get("DetailType", "")) for e in entries}),
        semconv.EVENTBRIDGE_SOURCES: sorted({str(e.get("Source", "")) for e in entries}),
        semconv.MESSAGING_BATCH_COUNT: len(entries),
    }


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    """The event ids are what a target sees as `id`: the link from this call to each consumer."""
    if operation != "PutEvents":
        return {}
    attributes: dict[str, Any] = {}
    ids = str_list(e.get("EventId") for e in response.get("Entries") or () if isinstance(e, Mapping))
    if ids:
        attributes[semconv.EVENTBRIDGE_EVENT_IDS] = ids
    failed = response.get("FailedEntryCount")
    if isinstance(failed, int) and failed:
        attributes[semconv.EVENTBRIDGE_FAILED] = failed
    return attributes


def put_events(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject_each(params, "Entries", lambda entry: _inject(entry, traceparent, xray))


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
