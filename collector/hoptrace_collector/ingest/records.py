"""Wire spans (`hoptrace.wire`) to `SpanRecord`, with the limits that keep one bad span from hurting the store.

Both the log ingest and the OTLP receiver come through here (the receiver first turns OTLP
into wire spans), so a span is flattened and bounded the same way whatever carried it:

- `service` is the resource's `service.name`, `function` its `faas.name` (else the service,
  else the function named by the log group); `request_id` is `faas.invocation_id`;
  `cold_start` is `faas.coldstart`; `trigger` is `hoptrace.trigger` (sqs, sns, apigateway…)
  else `faas.trigger` (pubsub, http…); `pending` is `hoptrace.pending` (the layer's timeout
  watchdog marks its early copy of the invocation span with it).
- A string attribute longer than `Limits.max_attribute_chars` (4 KiB) is cut to that length
  (`attribute_truncated`); values that are not strings, numbers, booleans or lists of them
  become JSON text (`bad_attribute`); `null` values are dropped, as OpenTelemetry does. At
  most `max_attributes` attributes, events and links are kept per span (`attributes_dropped`…).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hoptrace import semconv
from hoptrace.wire import (
    KINDS,
    SPAN_ID_MATCH,
    STATUS_CODES,
    TRACE_ID_MATCH,
    ZERO_SPAN_ID,
    ZERO_TRACE_ID,
    validate_span,
)
from hoptrace_collector.ingest.problems import Problems
from hoptrace_collector.store.model import MAX_INT64, SpanRecord, SpanSource

_SCALARS = frozenset({str, int, float, bool})
TOO_DEEP = "[too deeply nested to store]"
_UNSEEN = object()
_INVOCATION_ID, _TRIGGER, _FAAS_TRIGGER = semconv.FAAS_INVOCATION_ID, semconv.TRIGGER, semconv.FAAS_TRIGGER
_COLDSTART, _PENDING = semconv.FAAS_COLDSTART, semconv.PENDING


@dataclass(frozen=True)
class Limits:
    max_attribute_chars: int = 4096
    max_attributes: int = 128
    max_events: int = 128
    max_links: int = 128
    max_name_chars: int = 1024


DEFAULT_LIMITS = Limits()


def clean_attributes(attributes: Any, limits: Limits, problems: Problems) -> dict[str, Any]:
    """The attributes as stored; the same dict when nothing needs changing (the common, fast case)."""
    if not attributes:
        return {}
    if not isinstance(attributes, dict):
        problems.add("bad_attribute", f"attributes must be an object, got {type(attributes).__name__}")
        return {}
    limit = limits.max_attribute_chars
    for value in attributes.values():
        kind = type(value)
        if kind not in _SCALARS or (kind is str and len(value) > limit):
            break
    else:
        if len(attributes) <= limits.max_attributes:
            return attributes
    return _clean_slowly(attributes, limits, problems)


def _clean_slowly(attributes: dict[str, Any], limits: Limits, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if len(out) >= limits.max_attributes:
            problems.add("attributes_dropped", f"more than {limits.max_attributes} attributes; "
                         f"{len(attributes) - len(out)} dropped")
            break
        if value is None:
            continue
        if isinstance(value, list) and all(type(v) in _SCALARS for v in value):
            out[key] = [_bounded(v, key, limits, problems) for v in value]
        elif type(value) in _SCALARS:
            out[key] = _bounded(value, key, limits, problems)
        else:
            problems.add("bad_attribute", f"{key}: {type(value).__name__} value stored as JSON text")
            out[key] = _bounded(_json_text(value, key, problems), key, limits, problems)
    return out


def _json_text(value: Any, key: str, problems: Problems) -> str:
    try:
        return json.dumps(value, default=str)
    except RecursionError:  # nesting a decoder let through (OTLP builds values itself) but no encoder takes
        problems.add("too_deep", f"{key}: value nests too deep to store; replaced by a marker")
        return TOO_DEEP


def _bounded(value: Any, key: str, limits: Limits, problems: Problems) -> Any:
    if type(value) is str and len(value) > limits.max_attribute_chars:
        problems.add("attribute_truncated", f"{key}: {len(value)} chars cut to {limits.max_attribute_chars}")
        return value[:limits.max_attribute_chars]
    return value


def names(resource: dict[str, Any], fallback_function: str) -> tuple[str, str]:
    """(service, function) of every span of a resource."""
    service = resource.get(semconv.SERVICE_NAME)
    function = resource.get(semconv.FAAS_NAME)
    service = service if isinstance(service, str) and service else (
        function if isinstance(function, str) and function else fallback_function)
    function = function if isinstance(function, str) and function else service
    return service, function


def out_of_range(span: dict[str, Any]) -> str | None:
    """Why a span that `hoptrace.wire.validate_span` accepted still cannot be stored, or None.

    The wire format bounds times below only; a larger number would make the store's write fail and
    cost the whole batch (every good span in it, on every retry), so it is rejected here instead.
    """
    if span["end"] > MAX_INT64:
        return f"start/end must be below 2^63 ns (the year 2262), got end={span['end']}"
    return None


def to_record(span: dict[str, Any], resource: dict[str, Any], service: str, function: str, source: SpanSource,
              limits: Limits, problems: Problems) -> SpanRecord:
    """One validated wire span (see `hoptrace.wire.validate_span`) as stored (positional: once per span)."""
    get = span.get
    attributes = clean_attributes(get("attributes"), limits, problems)
    status = span["status"]
    message = status.get("message")
    attribute = attributes.get
    request_id = attribute(_INVOCATION_ID)
    trigger = attribute(_TRIGGER) or attribute(_FAAS_TRIGGER)
    name = span["name"]
    if len(name) > limits.max_name_chars:
        problems.add("attribute_truncated", f"span name of {len(name)} chars")
        name = name[:limits.max_name_chars]
    events, links = get("events"), get("links")
    return SpanRecord(
        span["trace_id"], span["span_id"], get("parent_id"), name, span["kind"], span["start"], span["end"],
        status["code"], str(message)[:limits.max_attribute_chars] if message else "", service, function,
        request_id if type(request_id) is str else None, attribute(_COLDSTART) is True,
        trigger if type(trigger) is str else None, attributes,
        _events(events, span["start"], limits, problems) if events else [],
        _links(links, limits, problems) if links else [],
        resource, source, attribute(_PENDING) is True,
    )


def layer_records(spans: list[Any], resource: dict[str, Any], service: str, function: str, limits: Limits,
                  problems: Problems, short: bool = False) -> list[SpanRecord]:
    """The records of one span line's spans (as parsed, unchecked): validated, bounded and built in one pass.

    This is log ingest's per-span hot path, so a well-formed span with clean attributes (what the
    layer writes) is accepted by one expression and built positionally, its attribute dict kept as
    parsed: the same record `validate_span`, `out_of_range` and `to_record` give, without their
    calls and repeated lookups. Anything else goes the long way, where `validate_span` says what
    is wrong (`invalid_span`: that span alone is dropped) and `to_record` bounds what it can.
    `short`: the line is at most `max_attribute_chars` long, so none of its strings is longer.
    """
    records: list[SpanRecord] = []
    append = records.append
    max_chars, max_attributes, max_name = limits.max_attribute_chars, limits.max_attributes, limits.max_name_chars
    scalar_types = _SCALARS.issuperset
    # the spans of a line share their trace and mostly one parent: an id equal to one already found valid
    # is valid without its regex (`_UNSEEN` equals no string)
    known_trace: object = _UNSEEN
    known_parent: object = _UNSEEN
    for index, span in enumerate(spans):
        if type(span) is dict and "events" not in span and "links" not in span:
            get = span.get
            trace_id, span_id, parent, start, end, name, kind, status, attributes = (
                get("trace_id"), get("span_id"), get("parent_id"), get("start"), get("end"), get("name"),
                get("kind"), get("status"), get("attributes"))
            if (type(trace_id) is str and (trace_id == known_trace or (TRACE_ID_MATCH(trace_id) is not None
                                                                        and trace_id != ZERO_TRACE_ID))
                    and type(span_id) is str and SPAN_ID_MATCH(span_id) is not None and span_id != ZERO_SPAN_ID
                    and (parent is None or (type(parent) is str and (parent == known_parent or (
                        SPAN_ID_MATCH(parent) is not None and parent != ZERO_SPAN_ID))))
                    and type(start) is int and type(end) is int and 0 < start <= end <= MAX_INT64
                    and type(name) is str and len(name) <= max_name and kind in KINDS
                    and type(status) is dict and (code := status.get("code")) in STATUS_CODES
                    and type(attributes) is dict and len(attributes) <= max_attributes
                    and scalar_types(map(type, attributes.values()))
                    and (short or _strings_within(attributes, max_chars))):
                attribute = attributes.get
                request_id, trigger = attribute(_INVOCATION_ID), attribute(_TRIGGER) or attribute(_FAAS_TRIGGER)
                message = status.get("message")
                append(SpanRecord(trace_id, span_id, parent, name, kind, start, end, code,
                                  str(message)[:max_chars] if message else "", service, function,
                                  request_id if type(request_id) is str else None, attribute(_COLDSTART) is True,
                                  trigger if type(trigger) is str else None, attributes, [], [], resource, "layer",
                                  attribute(_PENDING) is True))
                known_trace, known_parent = trace_id, span_id if parent is None else parent
                continue
        record = checked_record(span, index, resource, service, function, limits, problems)
        if record is not None:
            append(record)
    return records


def checked_record(span: Any, index: int, resource: dict[str, Any], service: str, function: str, limits: Limits,
                   problems: Problems) -> SpanRecord | None:
    """The long way for one span of a line: checked, bounded and built, or None with its problem counted."""
    problem = validate_span(span)
    if problem:
        problems.add("invalid_span", f"span {index}: {problem}")
        return None
    problem = out_of_range(span)
    if problem:
        problems.add("invalid_span", problem)
        return None
    return to_record(span, resource, service, function, "layer", limits, problems)


def _strings_within(attributes: dict[str, Any], limit: int) -> bool:
    return not any(len(value) > limit for value in attributes.values() if type(value) is str)


def _events(events: list[dict[str, Any]], start: int, limits: Limits, problems: Problems) -> list[dict[str, Any]]:
    if len(events) > limits.max_events:
        problems.add("events_dropped", f"{len(events) - limits.max_events} events over {limits.max_events}")
    out = []
    for event in events[:limits.max_events]:
        time = event.get("time")
        out.append({"name": str(event.get("name", ""))[:limits.max_name_chars],
                    "time": time if type(time) is int and 0 < time <= MAX_INT64 else start,
                    "attributes": clean_attributes(event.get("attributes"), limits, problems)})
    return out


def _links(links: list[dict[str, Any]], limits: Limits, problems: Problems) -> list[dict[str, Any]]:
    if len(links) > limits.max_links:
        problems.add("links_dropped", f"{len(links) - limits.max_links} links over {limits.max_links}")
    out = []
    for link in links[:limits.max_links]:
        if not (isinstance(link.get("trace_id"), str) and isinstance(link.get("span_id"), str)):
            problems.add("bad_link", "a link needs string trace_id and span_id")
            continue
        out.append({"trace_id": link["trace_id"], "span_id": link["span_id"],
                    "attributes": clean_attributes(link.get("attributes"), limits, problems)})
    return out


def to_wire(record: SpanRecord) -> dict[str, Any]:
    """The stored span back in wire form (for forwarding as OTLP or X-Ray)."""
    status: dict[str, Any] = {"code": record.status}
    if record.status_message:
        status["message"] = record.status_message
    return {"trace_id": record.trace_id, "span_id": record.span_id, "parent_id": record.parent_id,
            "name": record.name, "kind": record.kind, "start": record.start_ns, "end": record.end_ns,
            "status": status, "attributes": record.attributes, "events": record.events, "links": record.links}
