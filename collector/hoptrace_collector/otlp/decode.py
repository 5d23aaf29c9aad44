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

from hoptrace.scrub import Scrubber
from hoptrace.wire import KINDS, STATUS_CODES, validate_span
from hoptrace_collector.ingest.problems import Problems
from hoptrace_collector.ingest.records import Limits, clean_attributes, names, out_of_range, to_record
from hoptrace_collector.store.model import SpanRecord

Batches = list[tuple[dict[str, Any], list[Any]]]  # wire spans, and `Rejected` entries for unreadable parts
MAX_VALUE_DEPTH = 32


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


class Rejected(str):
    """Stands in a batch for a part of the body that holds no readable span; the text says where and why."""


class Warnings(list[str]):
    """What was dropped from spans that were kept (a bad attribute costs only itself); reported, not rejected."""

    def add(self, where: str, problem: str) -> None:
        if len(self) < 100:
            self.append(f"{where}: {problem}")


_JSON_NAMES: dict[type, str] = {dict: "object", list: "array", str: "string"}


def _type(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


def any_value(value: Any, depth: int = 0) -> Any:
    """An OTLP/JSON AnyValue as a plain attribute value (kvlists become JSON text); ValueError if ill-typed."""
    if not isinstance(value, dict) or not value:
        return None
    if depth > MAX_VALUE_DEPTH:
        raise ValueError(f"nested deeper than {MAX_VALUE_DEPTH} levels")
    kind, inner = next(iter(value.items()))
    if kind == "stringValue":
        if not isinstance(inner, str):
            raise ValueError(f"stringValue must be a string, got {_type(inner)}")
        return inner
    if kind == "boolValue":
        if not isinstance(inner, bool):
            raise ValueError(f"boolValue must be true or false, got {_type(inner)}")
        return inner
    if kind == "intValue":
        if type(inner) is int or (isinstance(inner, str) and inner.lstrip("-").isdigit()):
            return int(inner)
        raise ValueError(f"intValue must be an integer or a decimal string, got {str(inner)[:40]!r}")
    if kind == "doubleValue":
        if type(inner) in (int, float):
            return float(inner)
        if isinstance(inner, str) and inner in ("NaN", "Infinity", "-Infinity"):
            return inner  # the JSON mapping's spelling of non-finite doubles, kept as text (strict JSON)
        raise ValueError(f"doubleValue must be a number, got {str(inner)[:40]!r}")
    if kind == "arrayValue":
        values = inner.get("values", []) if isinstance(inner, dict) else None
        if not isinstance(values, list):
            raise ValueError(f"arrayValue must be an object with a 'values' array, got {_type(inner)}")
        return [any_value(v, depth + 1) for v in values]
    if kind == "kvlistValue":
        values = inner.get("values", []) if isinstance(inner, dict) else None
        if not isinstance(values, list):
            raise ValueError(f"kvlistValue must be an object with a 'values' array, got {_type(inner)}")
        return json.dumps(_attributes(values, Warnings(), "kvlist", depth + 1), default=str)
    if kind == "bytesValue":
        return str(inner)
    return None


def _attributes(key_values: Any, warnings: Warnings, where: str, depth: int = 0) -> dict[str, Any]:
    if key_values is None:
        return {}
    if not isinstance(key_values, list):
        warnings.add(where, f"attributes must be an array, got {_type(key_values)}")
        return {}
    out = {}
    for item in key_values:
        if not (isinstance(item, dict) and isinstance(item.get("key"), str)):
            warnings.add(where, "an attribute must be an object with a string 'key'")
            continue
        try:
            value = any_value(item.get("value"), depth)
        except ValueError as exc:
            warnings.add(where, f"attribute {item['key'][:60]!r} dropped: {exc}")
            continue
        if value is not None:
            out[item["key"]] = value
    return out


def attributes(key_values: Any) -> dict[str, Any]:
    """OTLP/JSON key-values as plain attributes; ill-typed ones are left out."""
    return _attributes(key_values, Warnings(), "attributes")


def _items(span: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    items = span.get(name)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None
    return items


def _json_span(span: Any, where: str, warnings: Warnings) -> Any:
    if not isinstance(span, dict):
        return Rejected(f"{where}: a span must be an object, got {_type(span)}")
    events, links = _items(span, "events"), _items(span, "links")
    for name, items in (("events", events), ("links", links)):
        if items is None:
            return Rejected(f"{where}: {name} must be an array of objects, got {_type(span.get(name))}")
    ids = {key: span.get(key) for key in ("traceId", "spanId", "parentSpanId")}
    for key, value in ids.items():
        if value is not None and not isinstance(value, str):
            return Rejected(f"{where}: {key} must be a hex string, got {_type(value)}")
    wire: dict[str, Any] = {
        "trace_id": (ids["traceId"] or "").lower(), "span_id": (ids["spanId"] or "").lower(),
        "parent_id": ids["parentSpanId"].lower() if ids["parentSpanId"] else None,
        "name": span.get("name", ""), "kind": _kind(span.get("kind", 0)),
        "start": _int(span.get("startTimeUnixNano")), "end": _int(span.get("endTimeUnixNano")),
        "status": _status(span.get("status")), "attributes": _attributes(span.get("attributes"), warnings, where),
    }
    if events:
        wire["events"] = [{"name": str(e.get("name", "")), "time": _int(e.get("timeUnixNano", 0)),
                           "attributes": _attributes(e.get("attributes"), warnings, f"{where} event {i}")}
                          for i, e in enumerate(events)]
    if links:
        wire["links"] = [{"trace_id": str(link.get("traceId", "")).lower(),
                          "span_id": str(link.get("spanId", "")).lower(),
                          "attributes": _attributes(link.get("attributes"), warnings, f"{where} link {i}")}
                         for i, link in enumerate(links)]
    return wire


def _json_resource_spans(entry: Any, where: str, warnings: Warnings) -> tuple[dict[str, Any], list[Any]]:
    """(resource, spans) of one resourceSpans entry; a part of the wrong type becomes a `Rejected` span."""
    if not isinstance(entry, dict):
        return {}, [Rejected(f"{where}: must be an object, got {_type(entry)}")]
    resource = entry.get("resource")
    if resource is not None and not isinstance(resource, dict):
        return {}, [Rejected(f"{where}.resource must be an object, got {_type(resource)}; its spans are not read")]
    attributes_of = _attributes((resource or {}).get("attributes"), warnings, f"{where}.resource")
    scopes = entry.get("scopeSpans", entry.get("instrumentationLibrarySpans"))
    if scopes is None:
        return attributes_of, []
    if not isinstance(scopes, list):
        return attributes_of, [Rejected(f"{where}.scopeSpans must be an array, got {_type(scopes)}")]
    spans: list[Any] = []
    for s, scope in enumerate(scopes):
        if not isinstance(scope, dict):
            spans.append(Rejected(f"{where}.scopeSpans[{s}] must be an object, got {_type(scope)}"))
            continue
        items = scope.get("spans")
        if items is None:
            continue
        if not isinstance(items, list):
            spans.append(Rejected(f"{where}.scopeSpans[{s}].spans must be an array, got {_type(items)}"))
            continue
        spans.extend(_json_span(span, f"{where}.scopeSpans[{s}].spans[{i}]", warnings)
                     for i, span in enumerate(items))
    return attributes_of, spans


def from_json(body: bytes, warnings: Warnings | None = None) -> Batches:
    """The batches of an OTLP/JSON body; OtlpError when the body as a whole is unreadable.

    Parts of the wrong type cost only themselves: a resourceSpans, scope or span that cannot be
    read becomes a `Rejected` entry (reported as rejected spans), an ill-typed attribute is
    dropped with a note in `warnings`.
    """
    warnings = Warnings() if warnings is None else warnings
    try:
        request = json.loads(body)
    except RecursionError as exc:
        raise OtlpError("body is nested deeper than this receiver reads (Python's JSON parser limit)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise OtlpError(f"body is not JSON: {exc}") from exc
    if not isinstance(request, dict) or not isinstance(request.get("resourceSpans", []), list):
        raise OtlpError("expected an ExportTraceServiceRequest object with a 'resourceSpans' array")
    return [_json_resource_spans(entry, f"resourceSpans[{r}]", warnings)
            for r, entry in enumerate(request.get("resourceSpans", []))]


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
    scrubber = Scrubber(limits.max_attribute_chars)
    for raw_resource, spans in batches:
        resource = clean_attributes(scrubber.attributes(raw_resource), limits, problems)
        service, function = names(resource, "unknown_service")
        for index, span in enumerate(spans):
            if isinstance(span, Rejected):
                rejected.append(str(span))
                problems.add("invalid_span", span)
                continue
            problem = validate_span(span) or out_of_range(span)
            if problem:
                rejected.append(f"span {index} of service {service}: {problem}")
                problems.add("invalid_span", problem)
                continue
            scrubber.span(span)  # valid UTF-8, strict JSON, no secrets: as the layer writes its own spans
            records.append(to_record(span, resource, service, function, "otlp", limits, problems))
    for kind, count in scrubber.fixed.items():
        problems.add(kind, "in OTLP spans", count)
    return records, rejected
