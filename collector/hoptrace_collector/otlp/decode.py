"""OTLP `ExportTraceServiceRequest` bodies to hoptrace wire spans (the inverse of `hoptrace.otlp`).

JSON follows the OTLP/HTTP JSON mapping: ids as hex strings, 64-bit integers as strings or
numbers, enums as integers or their names (`SPAN_KIND_SERVER`). Protobuf needs the
`opentelemetry-proto` package (`pip install 'hoptrace[collector]'`), imported on first use.
Each span then passes `hoptrace.wire.validate_span`, exactly like a span read from a log line.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hoptrace.wire import KINDS, STATUS_CODES, validate_span
from hoptrace_collector.ingest.problems import Problems
from hoptrace_collector.ingest.records import Limits, clean_attributes, names, out_of_range, to_record
from hoptrace_collector.store.model import SpanRecord

Batches = list[tuple[dict[str, Any], list[dict[str, Any]]]]


class OtlpError(ValueError):
    """The body is not an ExportTraceServiceRequest; the message says what is wrong."""


class ProtobufUnavailable(OtlpError):
    pass


_KIND_NAMES = {f"SPAN_KIND_{k.upper()}": k for k in KINDS} | {"SPAN_KIND_UNSPECIFIED": "internal"}
_STATUS_NAMES = {f"STATUS_CODE_{c.upper()}": c for c in STATUS_CODES}


def _kind(value: Any) -> Any:
    if isinstance(value, str):
        return _KIND_NAMES.get(value, value)
    if isinstance(value, int) and 0 <= value <= len(KINDS):
        return KINDS[value - 1] if value else "internal"
    return value


def _status(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {"code": "unset"}
    code = value.get("code", 0)
    if isinstance(code, str):
        code = _STATUS_NAMES.get(code, code)
    elif isinstance(code, int) and 0 <= code < len(STATUS_CODES):
        code = STATUS_CODES[code]
    status: dict[str, Any] = {"code": code}
    if value.get("message"):
        status["message"] = str(value["message"])
    return status


def _int(value: Any) -> Any:
    """uint64 fields arrive as strings in OTLP/JSON; anything unparseable is left for validation to reject."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def any_value(value: Any) -> Any:
    """An OTLP/JSON AnyValue as a plain attribute value (kvlists become JSON text)."""
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    if kind == "stringValue":
        return str(inner)
    if kind == "boolValue":
        return bool(inner)
    if kind == "intValue":
        return int(inner) if isinstance(inner, int) or str(inner).lstrip("-").isdigit() else str(inner)
    if kind == "doubleValue":
        return float(inner)
    if kind == "arrayValue":
        return [any_value(v) for v in (inner or {}).get("values", [])]
    if kind == "kvlistValue":
        return json.dumps(attributes((inner or {}).get("values", [])), default=str)
    if kind == "bytesValue":
        return str(inner)
    return None


def attributes(key_values: Any) -> dict[str, Any]:
    if not isinstance(key_values, list):
        return {}
    out = {}
    for item in key_values:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = any_value(item.get("value"))
            if value is not None:
                out[item["key"]] = value
    return out


def _json_span(span: Any) -> Any:
    if not isinstance(span, dict):
        return span  # rejected by validation, counted
    wire: dict[str, Any] = {
        "trace_id": str(span.get("traceId", "")).lower(), "span_id": str(span.get("spanId", "")).lower(),
        "parent_id": str(span["parentSpanId"]).lower() if span.get("parentSpanId") else None,
        "name": span.get("name", ""), "kind": _kind(span.get("kind", 0)),
        "start": _int(span.get("startTimeUnixNano")), "end": _int(span.get("endTimeUnixNano")),
        "status": _status(span.get("status")), "attributes": attributes(span.get("attributes")),
    }
    if span.get("events"):
        wire["events"] = [{"name": str(e.get("name", "")), "time": _int(e.get("timeUnixNano", 0)),
                           "attributes": attributes(e.get("attributes"))}
                          for e in span["events"] if isinstance(e, dict)]
    if span.get("links"):
        wire["links"] = [{"trace_id": str(link.get("traceId", "")).lower(),
                          "span_id": str(link.get("spanId", "")).lower(),
                          "attributes": attributes(link.get("attributes"))}
                         for link in span["links"] if isinstance(link, dict)]
    return wire


def from_json(body: bytes) -> Batches:
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OtlpError(f"body is not JSON: {exc}") from exc
    if not isinstance(request, dict) or not isinstance(request.get("resourceSpans", []), list):
        raise OtlpError("expected an ExportTraceServiceRequest object with a 'resourceSpans' list")
    batches: Batches = []
    for resource_spans in request.get("resourceSpans", []):
        if not isinstance(resource_spans, dict):
            raise OtlpError("every resourceSpans entry must be an object")
        resource = attributes((resource_spans.get("resource") or {}).get("attributes"))
        spans = [_json_span(span) for scope in resource_spans.get("scopeSpans", []) or []
                 if isinstance(scope, dict) for span in scope.get("spans", []) or []]
        batches.append((resource, spans))
    return batches


def _proto_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    inner = getattr(value, kind)
    if kind == "array_value":
        return [_proto_value(v) for v in inner.values]
    if kind == "kvlist_value":
        return json.dumps(_proto_attributes(inner.values), default=str)
    if kind == "bytes_value":
        return base64.b64encode(inner).decode()
    return inner


def _proto_attributes(key_values: Any) -> dict[str, Any]:
    out = {}
    for item in key_values:
        value = _proto_value(item.value)
        if value is not None:
            out[item.key] = value
    return out


def _proto_span(span: Any) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
        "parent_id": span.parent_span_id.hex() or None, "name": span.name, "kind": _kind(span.kind),
        "start": span.start_time_unix_nano, "end": span.end_time_unix_nano,
        "status": _status({"code": span.status.code, "message": span.status.message}),
        "attributes": _proto_attributes(span.attributes),
    }
    if span.events:
        wire["events"] = [{"name": e.name, "time": e.time_unix_nano, "attributes": _proto_attributes(e.attributes)}
                          for e in span.events]
    if span.links:
        wire["links"] = [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(),
                          "attributes": _proto_attributes(link.attributes)} for link in span.links]
    return wire


def protobuf_module() -> Any:
    try:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    except ImportError as exc:
        raise ProtobufUnavailable("this receiver cannot read OTLP protobuf without the opentelemetry-proto "
                                  "package (pip install 'hoptrace[collector]'); send application/json instead") from exc
    return trace_service_pb2


def from_protobuf(body: bytes) -> Batches:
    module = protobuf_module()
    from google.protobuf.message import DecodeError

    request = module.ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise OtlpError(f"body is not a protobuf ExportTraceServiceRequest: {exc}") from exc
    return [(_proto_attributes(rs.resource.attributes), [_proto_span(s) for ss in rs.scope_spans for s in ss.spans])
            for rs in request.resource_spans]


def to_records(batches: Batches, limits: Limits, problems: Problems) -> tuple[list[SpanRecord], list[str]]:
    """Store records of the valid spans, and why each rejected span was rejected."""
    records, rejected = [], []
    for raw_resource, spans in batches:
        resource = clean_attributes(raw_resource, limits, problems)
        service, function = names(resource, "unknown_service")
        for index, span in enumerate(spans):
            problem = validate_span(span) or out_of_range(span)
            if problem:
                rejected.append(f"span {index} of service {service}: {problem}")
                problems.add("invalid_span", problem)
                continue
            records.append(to_record(span, resource, service, function, "otlp", limits, problems))
    return records, rejected
