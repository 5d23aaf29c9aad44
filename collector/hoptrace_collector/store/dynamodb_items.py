"""Records to DynamoDB items and back (low-level attribute values: `{"S": ...}`, `{"N": ...}`).

Attribute names are short because DynamoDB bills them in every item's size. Span
attributes, events and links are stored as JSON text; the resource (the same for every
span of a function instance) is stored once in its own item and referenced by hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from hoptrace_collector.store import rules
from hoptrace_collector.store.dynamodb_table import (
    SUMMARY_SK,
    TTL_ATTRIBUTE,
    day,
    dlq_key,
    dlq_partition,
    invocation_key,
    invocation_partition,
    resource_key,
    shard,
    span_key,
    span_partition,
    trace_partition,
)
from hoptrace_collector.store.model import DlqMessage, InvocationRecord, SpanRecord, TraceSummary

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
#: At most this many spans are tracked by id in a trace summary (400 KB item limit); beyond it
#: the summary counts without ids, so a redelivered batch of such a giant trace may count twice.
MAX_TRACKED_SPANS = 8000


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


def resource_digest(resource: dict[str, Any]) -> tuple[str, str]:
    text = _dumps(dict(sorted(resource.items())))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), text


def resource_item(digest: str, text: str) -> dict[str, Any]:
    return {**resource_key(digest), "json": _s(text)}


def span_item(span: SpanRecord, rank: int, digest: str, ttl_days: float) -> dict[str, Any]:
    item = {**span_key(span.trace_id, span.span_id), "name": _s(span.name), "kind": _s(span.kind),
            "g1sk": _n(span.start_ns), "end": _n(span.end_ns), "status": _s(span.status), "svc": _s(span.service),
            "fn": _s(span.function), "cold": _n(span.cold_start), "res": _s(digest), "src": _s(span.source),
            "rank": _n(rank), "inv": _n(rules.is_invocation_span(span)),
            "g1pk": _s(span_partition(span.function, day(span.start_ns), shard(span.span_id)))}
    _put_optional(item, "parent", span.parent_id)
    _put_optional(item, "msg", span.status_message)
    _put_optional(item, "rid", span.request_id)
    _put_optional(item, "trig", span.trigger)
    _put_optional(item, "attrs", _dumps(span.attributes) if span.attributes else None)
    _put_optional(item, "events", _dumps(span.events) if span.events else None)
    _put_optional(item, "links", _dumps(span.links) if span.links else None)
    if span.pending:
        item["pend"] = _n(1)
    item["sig"] = _s(hashlib.blake2b(_dumps(item).encode(), digest_size=8).hexdigest())
    return with_ttl(item, span.start_ns, ttl_days)


def span_from(item: dict[str, Any], resource: dict[str, Any]) -> SpanRecord:
    return SpanRecord(
        trace_id=item["pk"]["S"][2:], span_id=item["sk"]["S"][2:], parent_id=_get(item, "parent"),
        name=_get(item, "name"), kind=_get(item, "kind"), start_ns=_get(item, "g1sk"), end_ns=_get(item, "end"),
        status=_get(item, "status"), status_message=_get(item, "msg", ""), service=_get(item, "svc"),
        function=_get(item, "fn"), request_id=_get(item, "rid"), cold_start=bool(_get(item, "cold", 0)),
        trigger=_get(item, "trig"), attributes=json.loads(_get(item, "attrs", "{}")),
        events=json.loads(_get(item, "events", "[]")), links=json.loads(_get(item, "links", "[]")),
        resource=resource, source=_get(item, "src"), pending=bool(_get(item, "pend", 0)))


def request_link_item(request_id: str, trace_id: str, time_ns: int, ttl_days: float) -> dict[str, Any]:
    return with_ttl({"pk": _s("R#" + request_id), "sk": _s("T#" + trace_id), "t": _n(time_ns)}, time_ns, ttl_days)


_INVOCATION_NUMBERS = ("duration_ms", "billed_ms", "memory_mb", "max_memory_mb", "init_ms")


def invocation_item(record: InvocationRecord, ttl_days: float) -> dict[str, Any]:
    item = {**invocation_key(record.function, record.request_id), "fn": _s(record.function),
            "g1pk": _s(invocation_partition(record.function, day(record.time_ns), shard(record.request_id))),
            "g1sk": _n(record.time_ns), "outcome": _s(record.outcome)}
    for name in _INVOCATION_NUMBERS:
        value = getattr(record, name)
        _put_optional(item, name, float(value) if name.endswith("_ms") and value is not None else value, True)
    for name in ("message", "log_group", "log_stream", "trace_id"):
        _put_optional(item, name, getattr(record, name))
    return with_ttl(item, record.time_ns, ttl_days)


def invocation_from(item: dict[str, Any]) -> InvocationRecord:
    numbers = {name: _get(item, name) for name in _INVOCATION_NUMBERS}
    for name in ("duration_ms", "billed_ms", "init_ms"):
        numbers[name] = None if numbers[name] is None else float(numbers[name])
    return InvocationRecord(
        request_id=item["pk"]["S"][2:], function=_get(item, "fn"), time_ns=_get(item, "g1sk"),
        outcome=_get(item, "outcome"), message=_get(item, "message", ""), log_group=_get(item, "log_group", ""),
        log_stream=_get(item, "log_stream", ""), trace_id=_get(item, "trace_id"), **numbers)


def dlq_item(message: DlqMessage, ttl_days: float) -> dict[str, Any]:
    item = {**dlq_key(message.queue, message.message_id), "queue": _s(message.queue),
            "g1pk": _s(dlq_partition(day(message.first_seen_ns))), "g1sk": _n(message.first_seen_ns),
            "receives": _n(message.receive_count)}
    for name in ("trace_id", "parent_span_id", "body_preview", "source_queue", "error"):
        _put_optional(item, name, getattr(message, name))
    return with_ttl(item, message.first_seen_ns, ttl_days)


def dlq_from(item: dict[str, Any]) -> DlqMessage:
    return DlqMessage(
        queue=_get(item, "queue"), message_id=item["sk"]["S"][2:], first_seen_ns=_get(item, "g1sk"),
        receive_count=_get(item, "receives", 0), trace_id=_get(item, "trace_id"),
        parent_span_id=_get(item, "parent_span_id"), body_preview=_get(item, "body_preview", ""),
        source_queue=_get(item, "source_queue"), error=_get(item, "error", ""))


def listing_keys(keys: set[str]) -> set[str]:
    """The keys a trace is listed under: `b:<name>` stands for both `s:<name>` and `f:<name>`.

    On Lambda a function's service name is usually the function name, so one listing entry
    instead of two halves the writes of trace listing entries; readers query both forms.
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
    """A trace summary as stored in DynamoDB: flags per span id, so applying a batch twice is harmless.

    (The SQLite store adds increments inside the same transaction as the spans; here spans and
    summary are separate writes, so the summary must be idempotent on its own.)
    """

    trace_id: str
    start_ns: int = 0
    end_ns: int = 0
    root_rank: int = 2
    root_start: int = 0
    root_service: str = ""
    root_name: str = ""
    keys: set[str] = field(default_factory=set)
    flags: dict[str, int] = field(default_factory=dict)  # span id -> 1 error | 2 cold start
    overflow: list[int] = field(default_factory=lambda: [0, 0, 0])  # spans, errors, cold starts beyond ids
    version: int = 0

    def add(self, span: SpanRecord) -> None:
        if not self.flags and not self.overflow[0]:
            self.start_ns, self.end_ns = span.start_ns, span.end_ns
        self.start_ns, self.end_ns = min(self.start_ns, span.start_ns), max(self.end_ns, span.end_ns)
        candidate = (rules.root_rank(span), span.start_ns)
        if candidate < (self.root_rank, self.root_start):
            self.root_rank, self.root_start = candidate
            self.root_service, self.root_name = span.service, span.name
        self.keys.update(("*", *rules.trace_keys(span)))
        value = (span.status == "error") | (span.cold_start << 1)
        if span.span_id in self.flags or len(self.flags) < MAX_TRACKED_SPANS:
            self.flags[span.span_id] = value
        else:
            self.overflow = [self.overflow[0] + 1, self.overflow[1] + (value & 1), self.overflow[2] + (value >> 1)]

    def summary(self) -> TraceSummary:
        values = self.flags.values()
        return TraceSummary(
            trace_id=self.trace_id, start_ns=self.start_ns, end_ns=self.end_ns, root_service=self.root_service,
            root_name=self.root_name, services=tuple(sorted(k[2:] for k in self.keys if k.startswith("s:"))),
            span_count=len(self.flags) + self.overflow[0], error_count=sum(v & 1 for v in values) + self.overflow[1],
            cold_starts=sum(v >> 1 for v in values) + self.overflow[2])

    def item(self, ttl_days: float) -> dict[str, Any]:
        item = {"pk": _s("T#" + self.trace_id), "sk": _s(SUMMARY_SK), "start": _n(self.start_ns),
                "end": _n(self.end_ns), "rrank": _n(self.root_rank), "rstart": _n(self.root_start),
                "rsvc": _s(self.root_service), "rname": _s(self.root_name), "keys": {"SS": sorted(self.keys)},
                "flags": {"M": {k: _n(v) for k, v in self.flags.items()}},
                "overflow": {"L": [_n(v) for v in self.overflow]}, "version": _n(self.version), "t": _n(self.start_ns)}
        return with_ttl(item, self.start_ns, ttl_days)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> TraceState:
        return cls(trace_id=item["pk"]["S"][2:], start_ns=_get(item, "start"), end_ns=_get(item, "end"),
                   root_rank=_get(item, "rrank"), root_start=_get(item, "rstart"), root_service=_get(item, "rsvc"),
                   root_name=_get(item, "rname"), keys=set(item["keys"]["SS"]),
                   flags={k: int(v["N"]) for k, v in item["flags"]["M"].items()},
                   overflow=[int(v["N"]) for v in item["overflow"]["L"]], version=_get(item, "version"))

    def key_items(self, keys: set[str], ttl_days: float) -> list[dict[str, Any]]:
        """Listing entries of this trace for `keys` (see `listing_keys`), in the day and shard of its start."""
        return [with_ttl({"pk": _s("T#" + self.trace_id), "sk": _s("K#" + key), "g1sk": _n(self.start_ns),
                          "g1pk": _s(trace_partition(key, day(self.start_ns), shard(self.trace_id)))},
                         self.start_ns, ttl_days) for key in sorted(keys)]
