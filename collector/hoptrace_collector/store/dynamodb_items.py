"""Records to DynamoDB items and back (low-level attribute values: `{"S": ...}`, `{"N": ...}`).

Attribute names are short because DynamoDB bills them in every item's size. Span groups are in
dynamodb_groups, listing pages in dynamodb_pages; here: the request item (an invocation's
platform record, its trace ids and its log lines, one item read by request id), DLQ messages,
and the trace summary the readers build from a trace's spans.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hoptrace_collector.store import rules
from hoptrace_collector.store.dynamodb_table import TTL_ATTRIBUTE, dlq_key, request_key
from hoptrace_collector.store.loglines import LogLine, in_order
from hoptrace_collector.store.model import DlqMessage, InvocationRecord, SpanRecord, TraceSummary

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
#: Compressed log bytes a request item holds; lines past it go to overflow items (dynamodb_logs).
MAX_LOG_BYTES = 200_000


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(int(value))}


def _put_optional(item: dict[str, Any], name: str, value: Any, number: bool = False) -> None:
    if value is not None and value != "":
        item[name] = _n(value) if number else _s(value)


def _get(item: dict[str, Any], name: str, default: Any = None) -> Any:
    value = item.get(name)
    if value is None:
        return default
    if "S" in value:
        return value["S"]
    if "N" in value:
        text = value["N"]
        return float(text) if any(c in text for c in ".eE") else int(text)
    return default


def with_ttl(item: dict[str, Any], time_ns: int, ttl_days: float) -> dict[str, Any]:
    """`item` with its TTL attribute: deleted by DynamoDB `ttl_days` after `time_ns` (0: kept forever)."""
    if ttl_days > 0:
        item[TTL_ATTRIBUTE] = _n(time_ns // 1_000_000_000 + int(ttl_days * 86_400))
    return item


# -- the request item ------------------------------------------------------------------------------------

_INVOCATION_NUMBERS = ("duration_ms", "billed_ms", "memory_mb", "max_memory_mb", "init_ms")


@dataclass(slots=True)
class Request:
    """What the store keeps per (function, request id): one item, merged on every write."""

    function: str
    request_id: str
    record: InvocationRecord | None = None
    traces: set[str] = field(default_factory=set)
    lines: dict[str, LogLine] = field(default_factory=dict)  # event id -> line
    first_ns: int | None = None  # the oldest time it holds (retention)
    version: int = 0

    def same(self, other: Request) -> bool:
        return (self.record, self.traces, self.lines) == (other.record, other.traces, other.lines)

    def note_time(self, time_ns: int) -> None:
        self.first_ns = time_ns if self.first_ns is None else min(self.first_ns, time_ns)

    def item(self, ttl_days: float) -> dict[str, Any]:
        item: dict[str, Any] = {**request_key(self.function, self.request_id), "v": _n(self.version)}
        if self.record is not None:
            record = self.record
            item.update(time=_n(record.time_ns), outcome=_s(record.outcome))
            for name in _INVOCATION_NUMBERS:
                value = getattr(record, name)
                _put_optional(item, name, float(value) if name.endswith("_ms") and value is not None else value, True)
            for name in ("message", "log_group", "log_stream", "trace_id"):
                _put_optional(item, name, getattr(record, name))
        if self.traces:
            item["tr"] = {"SS": sorted(self.traces)}
        if self.lines:
            item["lg"] = {"B": encode_lines(self.lines.values())}
        first = self.first_ns or 0
        item["t"] = _n(first)
        newest = max([first, *([self.record.time_ns] if self.record else [])])
        return with_ttl(item, newest, ttl_days)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Request:
        function, request_id = item["sk"]["S"][2:], item["pk"]["S"][2:]
        return cls(function, request_id, invocation_from(item), set(item.get("tr", {}).get("SS", ())),
                   {line.event_id: line for line in decode_lines(function, request_id, item)},
                   _get(item, "t"), _get(item, "v", 0))


def invocation_from(item: dict[str, Any]) -> InvocationRecord | None:
    """The platform's record in a request item, None when the item holds only traces or lines."""
    if "outcome" not in item:
        return None
    numbers = {name: _get(item, name) for name in _INVOCATION_NUMBERS}
    for name in ("duration_ms", "billed_ms", "init_ms"):
        numbers[name] = None if numbers[name] is None else float(numbers[name])
    return InvocationRecord(
        request_id=item["pk"]["S"][2:], function=item["sk"]["S"][2:], time_ns=_get(item, "time"),
        outcome=_get(item, "outcome"), message=_get(item, "message", ""), log_group=_get(item, "log_group", ""),
        log_stream=_get(item, "log_stream", ""), trace_id=_get(item, "trace_id"), **numbers)


def _line_row(line: LogLine) -> list[Any]:
    return [line.time_ns, line.event_id, line.level, line.message, line.log_stream, line.trace_id, line.span_id]


def encode_lines(lines: Iterable[LogLine]) -> bytes:
    return zlib.compress(_dumps([_line_row(line) for line in in_order(list(lines))]).encode(), 6)


def decode_lines(function: str, request_id: str, item: dict[str, Any]) -> list[LogLine]:
    if "lg" not in item:
        return []
    return [LogLine(function, request_id, time_ns, event_id, message, level, stream, trace_id, span_id)
            for time_ns, event_id, level, message, stream, trace_id, span_id in json.loads(
                zlib.decompress(item["lg"]["B"]))]


# -- DLQ messages ----------------------------------------------------------------------------------------

def dlq_item(message: DlqMessage, ttl_days: float) -> dict[str, Any]:
    item = {**dlq_key(message.queue, message.message_id), "first": _n(message.first_seen_ns),
            "t": _n(message.first_seen_ns), "receives": _n(message.receive_count)}
    for name in ("trace_id", "parent_span_id", "body_preview", "source_queue", "error"):
        _put_optional(item, name, getattr(message, name))
    return with_ttl(item, message.first_seen_ns, ttl_days)


def dlq_from(item: dict[str, Any]) -> DlqMessage:
    return DlqMessage(
        queue=item["pk"]["S"][2:], message_id=item["sk"]["S"][2:], first_seen_ns=_get(item, "first"),
        receive_count=_get(item, "receives", 0), trace_id=_get(item, "trace_id"),
        parent_span_id=_get(item, "parent_span_id"), body_preview=_get(item, "body_preview", ""),
        source_queue=_get(item, "source_queue"), error=_get(item, "error", ""))


# -- listing keys and trace summaries --------------------------------------------------------------------

def listing_keys(keys: set[str]) -> set[str]:
    """The keys a trace is listed under: `b:<name>` stands for both `s:<name>` and `f:<name>`.

    On Lambda a function's service name is usually the function name, so one page instead of two
    halves the listing writes; readers query both forms.
    """
    out = set()
    for key in keys:
        name = key[2:]
        if key[:2] in ("s:", "f:") and {"s:" + name, "f:" + name} <= keys:
            out.add("b:" + name)
        else:
            out.add(key)
    return out


@dataclass
class TraceState:
    """A trace's summary, built from its spans (one version per span id) as the readers load them."""

    trace_id: str
    start_ns: int = 0
    end_ns: int = 0
    root_rank: int = 2
    root_start: int = 0
    root_service: str = ""
    root_name: str = ""
    keys: set[str] = field(default_factory=set)
    spans: int = 0
    errors: int = 0
    cold_starts: int = 0

    @classmethod
    def of(cls, trace_id: str, spans: Iterable[SpanRecord]) -> TraceState | None:
        state = cls(trace_id)
        for span in spans:
            state.add(span)
        return state if state.spans else None

    def add(self, span: SpanRecord) -> None:
        if not self.spans:
            self.start_ns, self.end_ns = span.start_ns, span.end_ns
        self.start_ns, self.end_ns = min(self.start_ns, span.start_ns), max(self.end_ns, span.end_ns)
        candidate = (rules.root_rank(span), span.start_ns)
        if not self.spans or candidate < (self.root_rank, self.root_start):
            self.root_rank, self.root_start = candidate
            self.root_service, self.root_name = span.service, span.name
        self.keys.update(rules.trace_keys(span))
        self.spans += 1
        self.errors += span.status == "error"
        self.cold_starts += span.cold_start

    def summary(self) -> TraceSummary:
        return TraceSummary(
            trace_id=self.trace_id, start_ns=self.start_ns, end_ns=self.end_ns, root_service=self.root_service,
            root_name=self.root_name, services=tuple(sorted(k[2:] for k in self.keys if k.startswith("s:"))),
            span_count=self.spans, error_count=self.errors, cold_starts=self.cold_starts)
