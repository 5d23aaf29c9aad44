"""The hoptrace wire format: how spans travel from a function to the collector in its log.

One invocation writes `HOPTRACE ` + compact JSON on one stdout line (spec in the README):

    {"v": 1, "resource": {...}, "spans": [span, ...], "health": {...}?}

A span maps one-to-one onto an OTLP span (see `hoptrace.otlp`):

    {"trace_id": 32 hex, "span_id": 16 hex, "parent_id": 16 hex | null, "name": str,
     "kind": "internal|server|client|producer|consumer", "start": ns, "end": ns,
     "status": {"code": "unset|ok|error", "message"?: str}, "attributes": {...},
     "events": [{"name", "time", "attributes"}], "links": [{"trace_id", "span_id", "attributes"}]}

The resource leaves out what the line's own log context says (`compact_resource`): the constants
every hoptrace Lambda line shares (`RESOURCE_CONSTANTS`), the log group and stream, and the function
name and version when the log group and stream name them (`/aws/lambda/<name>`, `.../[<version>]...`).
The collector puts them back from the subscription batch's log group and stream (`full_resource`),
so a line written before this (every key present) reads the same, and a collector without it still
names every span's service and function from the log group. CloudWatch bills every byte of every
line, and these keys were half of a one-span line.

Lines stay under `MAX_LINE_BYTES` (CloudWatch Logs caps an event at 256 KiB): spans are
packed into several self-contained lines, and a single span too large for one line is
cut into `HOPTRACE-PART <id> <i>/<n> <text>` pieces that `Reassembler` joins.

This module imports only the standard library: the collector uses it without the SDK.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from typing import Any

from hoptrace import semconv
from hoptrace.plain import Plain

VERSION = 1
PREFIX = "HOPTRACE "
PART_PREFIX = "HOPTRACE-PART "
MAX_LINE_BYTES = 200 * 1024
COMPRESSED_MARK = "z"  # a compressed line's body starts `z<dictionary>:` (hoptrace.wire_deflate), a JSON one `{`
KINDS = ("internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")


class WireError(ValueError):
    """A line that is not valid hoptrace wire format; the message says what and where."""


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)  # built once: json.dumps builds one per call


# For spans `hoptrace.scrub` has cleaned (scalars and lists of scalars only, so no cycle is possible).
_SCRUBBED_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False)
dumps_scrubbed = _SCRUBBED_ENCODER.encode
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii  # `dumps_scrubbed` of a str, one C call


class BasedAttributes(dict[str, Any]):
    """A span's attributes that begin with every item of `base`, unchanged and in its order (None: no longer).

    An engine makes them from attributes it prepared once and hands to many spans (an SDK call's, per queue),
    so the scrubber makes the text of those items once per `base` (`hoptrace.scrub`), not once per span."""

    __slots__ = ("base",)
    base: dict[str, Any] | None

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        return dict, (dict(self),)  # a copy or a pickle is plain attributes (the base is the engine's)


_HEADS: dict[str, str] = {}  # a span field's name -> its JSON text and ":"
_LAYOUT = ("trace_id", "span_id", "parent_id", "name", "kind", "start", "end", "status", "attributes")
_STATUSES = {code: f'{{"code":"{code}"}}' for code in ("unset", "ok", "error")}  # a status without a message


def span_text(span: dict[str, Any], attributes_text: str) -> str:
    """`dumps_scrubbed(span)`, with its (scrubbed) attributes given as JSON text already.

    The span's own fields cost little this way: numbers and hex ids need no escaping, and a span laid
    out as the engines make it is one format."""
    if tuple(span) == _LAYOUT:
        trace_id, span_id, parent, name, kind, start, end, status = (
            span["trace_id"], span["span_id"], span["parent_id"], span["name"], span["kind"], span["start"],
            span["end"], span["status"])
        status_text = _STATUSES.get(status.get("code", "")) if type(status) is dict and len(status) == 1 else None
        if (type(trace_id) is str and type(span_id) is str and type(kind) is str and type(start) is int
                and type(end) is int and status_text is not None and (parent is None or type(parent) is str)):
            plain = trace_id + span_id + kind + (parent or "")  # ids and kind: nothing to escape
            if not (plain.isascii() and plain.encode().isalnum()):  # bytes.isalnum: 4x str's (no Unicode table)
                return _span_text_slow(span, attributes_text)
            parent_text = "null" if parent is None else f'"{parent}"'
            return (f'{{"trace_id":"{trace_id}","span_id":"{span_id}","parent_id":{parent_text},'
                    f'"name":{_quote(name) if type(name) is str else dumps_scrubbed(name)},"kind":"{kind}",'
                    f'"start":{int.__repr__(start)},'
                    f'"end":{int.__repr__(end)},"status":{status_text},"attributes":{attributes_text}}}')
    return _span_text_slow(span, attributes_text)


def _span_text_slow(span: dict[str, Any], attributes_text: str) -> str:
    """`span_text` of a span laid out otherwise (a watchdog's partial span, a test's), field by field."""
    parts = []
    for key, value in span.items():
        head = _HEADS.get(key)
        if head is None:
            head = dumps_scrubbed(key) + ":"
            if len(_HEADS) < 64:
                _HEADS[key] = head
        kind = type(value)
        if key == "attributes":
            text = attributes_text
        elif kind is int:
            text = int.__repr__(value)
        elif kind is str and value.isascii() and value.encode().isalnum():  # ids, kinds: nothing to escape
            text = '"' + value + '"'
        elif value is None:
            text = "null"
        elif kind is dict and key == "status" and len(value) == 1 and value.get("code") in _STATUSES:
            text = _STATUSES[value["code"]]
        else:
            text = dumps_scrubbed(value)
        parts.append(head + text)
    return "{" + ",".join(parts) + "}"


def dumps(value: Any) -> str:
    """A span or resource as wire JSON: compact, ASCII (so characters are bytes)."""
    return _ENCODER.encode(value)


#: What every hoptrace span line written in Lambda carries in its resource; a line may leave these out.
RESOURCE_CONSTANTS: dict[str, str] = {semconv.CLOUD_PROVIDER: "aws", semconv.CLOUD_PLATFORM: "aws_lambda",
                                      semconv.TELEMETRY_SDK_NAME: "hoptrace", semconv.TELEMETRY_SDK_LANGUAGE: "python"}
LAMBDA_LOG_GROUP = "/aws/lambda/"
_VERSION_IN_STREAM = re.compile(r"\[([^\]]+)\]")
_ABSENT = object()


def context_resource(log_group: str, log_stream: str) -> dict[str, Any]:
    """The resource attributes a line's log group and stream give: what a line may leave out."""
    context: dict[str, Any] = dict(RESOURCE_CONSTANTS)
    if log_group:
        context[semconv.AWS_LOG_GROUP_NAMES] = log_group
        if log_group.startswith(LAMBDA_LOG_GROUP) and len(log_group) > len(LAMBDA_LOG_GROUP):
            context[semconv.FAAS_NAME] = context[semconv.SERVICE_NAME] = log_group[len(LAMBDA_LOG_GROUP):]
    if log_stream:
        context[semconv.FAAS_INSTANCE] = log_stream
        version = _VERSION_IN_STREAM.search(log_stream)
        if version:
            context[semconv.FAAS_VERSION] = version.group(1)
    return context


def compact_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` without what the log group and stream it names (its own `aws.log.group.names` and
    `faas.instance`, set from Lambda's environment) will give back; made once per process by the layer."""
    group, stream = resource.get(semconv.AWS_LOG_GROUP_NAMES), resource.get(semconv.FAAS_INSTANCE)
    context = context_resource(group if type(group) is str else "", stream if type(stream) is str else "")
    return {key: value for key, value in resource.items() if context.get(key, _ABSENT) != value}


def full_resource(resource: dict[str, Any], log_group: str, log_stream: str) -> dict[str, Any]:
    """A decoded line's resource with what its log context gives filled in (the line's own values win)."""
    return {**_context(log_group, log_stream), **resource}


_context = functools.lru_cache(maxsize=1024)(context_resource)  # the collector: once per log stream


def resource_text(resource: dict[str, Any]) -> str:
    """The resource as a line carries it: compacted, as wire JSON."""
    return dumps(compact_resource(resource))


def encode(spans: list[dict[str, Any]], resource: dict[str, Any], health: dict[str, int] | None = None,
           max_bytes: int = MAX_LINE_BYTES, compress: bool = False) -> list[str]:
    """Lines to print for one invocation; each line is complete on its own (given its log context).
    `compress`: each line's body deflated (`hoptrace.wire_deflate`), for a third of the bytes."""
    return encode_texts([dumps(span) for span in spans], resource, health, max_bytes, resource_text(resource),
                        compress)


def encode_texts(texts: list[str], resource: dict[str, Any], health: dict[str, int] | None = None,
                 max_bytes: int = MAX_LINE_BYTES, resource_json: str | None = None,
                 compress: bool = False) -> list[str]:
    """`encode` for spans already rendered as JSON text (so a caller that measured them renders once);
    `resource_json`: the resource already rendered (the layer renders it once per process, compacted)."""
    if resource_json is None:
        resource_json = resource_text(resource)
    if not health:  # the common case: one line holds them all (ASCII text, so characters are bytes)
        line = f'{PREFIX}{{"v":{VERSION},"resource":{resource_json},"spans":[{",".join(texts)}]}}'
        if len(line) <= max_bytes and line.isascii():
            if compress:
                return _split_oversized(_compressed(line), max_bytes)
            return [line]
    head = f'{{"v":{VERSION},"resource":{resource_json}'
    if health:
        head += ',"health":' + dumps({"errors": health})
    head += ',"spans":['
    budget = max_bytes - len(PREFIX) - len(head) - 2
    lines: list[str] = []
    chunk: list[str] = []
    size = 0
    for text in texts:
        if chunk and size + len(text) + 1 > budget:
            lines.append(PREFIX + head + ",".join(chunk) + "]}")
            chunk, size = [], 0
            head = f'{{"v":{VERSION},"resource":{resource_json},"spans":['
        chunk.append(text)
        size += len(text) + 1
    if chunk or not lines:
        lines.append(PREFIX + head + ",".join(chunk) + "]}")
    if compress:
        lines = [_compressed(line) for line in lines]
    return [piece for line in lines for piece in _split_oversized(line, max_bytes)]


def _compressed(line: str) -> str:
    from hoptrace import wire_deflate  # loaded by those who turn compression on (and by the collector)

    return PREFIX + wire_deflate.compress(line[len(PREFIX):])


def _split_oversized(line: str, max_bytes: int) -> list[str]:
    if len(line) <= max_bytes and (line.isascii() or len(line.encode()) <= max_bytes):
        return [line]
    body = line[len(PREFIX):]
    part_id = os.urandom(8).hex()
    room = max_bytes - len(PART_PREFIX) - 64  # room for "<id> <i>/<n> "
    # json.dumps escapes non-ASCII by default, so characters are bytes here.
    pieces = [body[i:i + room] for i in range(0, len(body), room)]
    return [f"{PART_PREFIX}{part_id} {n + 1}/{len(pieces)} {piece}" for n, piece in enumerate(pieces)]


class Reassembler(Plain):
    """Joins `HOPTRACE-PART` pieces (in any order) back into the line they were cut from."""

    __slots__ = _fields = ("pending", "totals")

    def __init__(self, pending: dict[str, dict[int, str]] | None = None, totals: dict[str, int] | None = None) -> None:
        self.pending: dict[str, dict[int, str]] = {} if pending is None else pending
        self.totals: dict[str, int] = {} if totals is None else totals

    def feed(self, message: str) -> str | None:
        """The whole line once its last piece arrives, else None. Raises WireError on bad pieces."""
        try:
            part_id, counter, text = message[len(PART_PREFIX):].split(" ", 2)
            index, total = (int(x) for x in counter.split("/"))
        except ValueError as exc:
            raise WireError(f"malformed HOPTRACE-PART header: {message[:60]!r}") from exc
        if not 1 <= index <= total <= 10_000:
            raise WireError(f"HOPTRACE-PART counter out of range: {counter!r}")
        known = self.totals.get(part_id)
        if known is not None and known != total:
            # Pieces of one id that disagree on their count cannot make one line: give the set up.
            del self.pending[part_id], self.totals[part_id]
            raise WireError(f"HOPTRACE-PART {part_id[:20]!r}: piece {counter} conflicts with an earlier total of "
                            f"{known}; the pieces seen are dropped")
        self.pending.setdefault(part_id, {})[index] = text
        self.totals[part_id] = total
        if len(self.pending[part_id]) < total:
            return None
        parts = self.pending.pop(part_id)
        del self.totals[part_id]
        return PREFIX + "".join(parts[i] for i in range(1, total + 1))

    def incomplete(self) -> list[str]:
        return list(self.pending)


def is_span_line(message: str) -> bool:
    return message.startswith(PREFIX) or message.startswith(PART_PREFIX)


def decode(line: str, loads: Callable[[str], Any] = json.loads
           ) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """Parse one `HOPTRACE` line into (resource, valid spans, problems).

    A bad span is reported and skipped, never fatal for its neighbours; a line that is
    not JSON or has an unknown version raises WireError. `loads` may be a faster parser
    that raises `ValueError` (with `msg`/`pos`, as json's) where `json.loads` would.
    """
    resource, spans = decode_envelope(line, loads)
    valid, problems = [], []
    for index, span in enumerate(spans):
        problem = validate_span(span)
        if problem:
            problems.append(f"span {index}: {problem}")
        else:
            valid.append(span)
    return resource, valid, problems


def plain(line: str) -> str:
    """A span line with its JSON body: a compressed line (`wire_deflate`) inflated, any other as it is.
    Raises WireError (its message starts "compressed span line") when a compressed body is unreadable."""
    body = line[len(PREFIX):] if line.startswith(PREFIX) else line
    if not body.startswith(COMPRESSED_MARK):
        return line
    from hoptrace import wire_deflate

    try:
        return PREFIX + wire_deflate.inflate(body)
    except wire_deflate.InflateError as exc:
        raise WireError(str(exc)) from exc


def decode_envelope(line: str, loads: Callable[[str], Any] = json.loads) -> tuple[dict[str, Any], list[Any]]:
    """`decode` without checking the spans: (resource, spans as parsed), for a reader that validates each
    span as it builds from it (the collector's hot path); raises WireError as `decode` does. A compressed
    line is inflated first (`plain`)."""
    line = plain(line)
    text = line[len(PREFIX):] if line.startswith(PREFIX) else line
    try:
        payload = loads(text)
    except ValueError as exc:  # a faster parser may raise a plain ValueError (no msg/pos): say what it said
        where = f"{exc.msg} at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise WireError(f"span line is not valid JSON ({where})") from exc
    if not isinstance(payload, dict):
        raise WireError("span line must be a JSON object")
    if payload.get("v") != VERSION:
        raise WireError(f"unknown wire version {payload.get('v')!r} (this collector reads v{VERSION})")
    resource = payload.get("resource")
    spans = payload.get("spans")
    if not isinstance(resource, dict) or not isinstance(spans, list):
        raise WireError("span line needs a 'resource' object and a 'spans' list")
    return resource, spans


_HEX_IDS = {length: (re.compile(f"[0-9a-f]{{{length}}}").fullmatch, "0" * length) for length in (16, 32)}


def _hex_id(value: Any, length: int) -> bool:
    matches, zeros = _HEX_IDS[length]
    return type(value) is str and matches(value) is not None and value != zeros


_ID32, _ZERO32 = _HEX_IDS[32]
_ID16, _ZERO16 = _HEX_IDS[16]
#: A trace id / span id is valid when it matches (not None) and is not all zeros (see `validate_span`).
TRACE_ID_MATCH, ZERO_TRACE_ID, SPAN_ID_MATCH, ZERO_SPAN_ID = _ID32, _ZERO32, _ID16, _ZERO16
_NO_ATTRIBUTES: dict[str, Any] = {}


def validate_span(span: Any) -> str | None:
    """None if `span` is a well-formed wire span, else what is wrong with it.

    The collector calls this for every span it reads, so a well-formed span is accepted by one
    expression; anything else goes through the checks one by one, which say what is wrong.
    """
    if type(span) is dict and "events" not in span and "links" not in span:
        get = span.get
        trace_id, span_id, parent, start, end, status = (get("trace_id"), get("span_id"), get("parent_id"),
                                                         get("start"), get("end"), get("status"))
        if (type(trace_id) is str and _ID32(trace_id) is not None and trace_id != _ZERO32
                and type(span_id) is str and _ID16(span_id) is not None and span_id != _ZERO16
                and (parent is None or (type(parent) is str and _ID16(parent) is not None and parent != _ZERO16))
                and type(start) is int and type(end) is int and 0 < start <= end
                and type(get("name")) is str and get("kind") in KINDS
                and type(status) is dict and status.get("code") in STATUS_CODES
                and type(get("attributes", _NO_ATTRIBUTES)) is dict):
            return None
    return _what_is_wrong(span)


def _what_is_wrong(span: Any) -> str | None:
    if not isinstance(span, dict):
        return "not an object"
    if not _hex_id(span.get("trace_id"), 32):
        return f"trace_id must be 32 lowercase hex digits, got {str(span.get('trace_id'))[:40]!r}"
    if not _hex_id(span.get("span_id"), 16):
        return f"span_id must be 16 lowercase hex digits, got {str(span.get('span_id'))[:40]!r}"
    parent = span.get("parent_id")
    if parent is not None and not _hex_id(parent, 16):
        return f"parent_id must be null or 16 hex digits, got {str(parent)[:40]!r}"
    if not isinstance(span.get("name"), str):
        return "name must be a string"
    if span.get("kind") not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    start, end = span.get("start"), span.get("end")
    if type(start) is not int or type(end) is not int or start <= 0 or end < start:
        return "start/end must be integers (ns since epoch) with end >= start"
    status = span.get("status")
    if not isinstance(status, dict) or status.get("code") not in STATUS_CODES:
        return "status.code must be one of unset, ok, error"
    if not isinstance(span.get("attributes", {}), dict):
        return "attributes must be an object"
    for name in ("events", "links"):
        items = span.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return f"{name} must be a list of objects"
    return None
