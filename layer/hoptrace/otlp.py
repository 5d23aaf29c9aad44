"""Wire lines to OTLP/JSON (`ExportTraceServiceRequest`), so spans can go to any OTLP backend.

Follows the OTLP/HTTP JSON encoding: ids as hex strings, enums as integers, 64-bit
integers as decimal strings. A value OTLP has no number for is still sent, so one odd attribute
cannot make a backend refuse the whole request: an integer past int64 as its decimal string
(`stringValue`), NaN and the infinities as proto3 JSON spells them (`"NaN"`, `"Infinity"`,
`"-Infinity"`). Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from hoptrace.wire import KINDS, STATUS_CODES

SCOPE = {"name": "hoptrace", "version": "1"}
_INT64 = range(-(2**63), 2**63)
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)} if value in _INT64 else {"stringValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value if math.isfinite(value) else _NON_FINITE.get(value, "NaN")}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value)}}
    return {"stringValue": str(value)}


def key_values(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": any_value(v)} for k, v in attributes.items()]


def span_to_otlp(span: dict[str, Any]) -> dict[str, Any]:
    status = span.get("status", {})
    out: dict[str, Any] = {
        "traceId": span["trace_id"],
        "spanId": span["span_id"],
        "name": span["name"],
        "kind": KINDS.index(span["kind"]) + 1,  # SPAN_KIND_INTERNAL = 1 … CONSUMER = 5
        "startTimeUnixNano": str(span["start"]),
        "endTimeUnixNano": str(span["end"]),
        "attributes": key_values(span.get("attributes", {})),
        "events": [
            {"timeUnixNano": str(e.get("time", 0)), "name": str(e.get("name", "")),
             "attributes": key_values(e.get("attributes", {}))}
            for e in span.get("events", [])
        ],
        "links": [
            {"traceId": link["trace_id"], "spanId": link["span_id"],
             "attributes": key_values(link.get("attributes", {}))}
            for link in span.get("links", [])
        ],
        "status": {"code": STATUS_CODES.index(status.get("code", "unset"))},
    }
    if span.get("parent_id"):
        out["parentSpanId"] = span["parent_id"]
    if status.get("message"):
        out["status"]["message"] = status["message"]
    return out


def to_otlp(batches: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> dict[str, Any]:
    """(resource, spans) pairs, as `wire.decode` returns them, to one export request."""
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": key_values(resource)},
                "scopeSpans": [{"scope": SCOPE, "spans": [span_to_otlp(s) for s in spans]}],
            }
            for resource, spans in batches
        ]
    }
