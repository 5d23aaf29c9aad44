"""Producer -> consumer links where AWS carries no context, resolved by the keys both sides wrote.

The layer puts `hoptrace.link.produced` on the client span of an S3/DynamoDB/Kinesis write and
`hoptrace.link.consumed` on the span of the record a consumer processed (see `hoptrace.links`).
Both stores keep those keys in their own table (`links_sqlite`, `links_dynamodb`) as spans are
written, so a link resolves whichever side arrives first: looking a trace's keys up finds the
other side the moment it is stored, with no rewrite of either span.

One key can have several producers (the same item updated twice, the same bytes put twice):
a consumer is joined to the latest producer that started before it, else to the earliest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hoptrace import semconv
from hoptrace.links import MAX_KEYS
from hoptrace_collector.store.model import SpanRecord

PRODUCED, CONSUMED = "produced", "consumed"
_ROLES = ((semconv.LINK_PRODUCED, PRODUCED), (semconv.LINK_CONSUMED, CONSUMED))
_MAX_KEY_LENGTH = 128


@dataclass(frozen=True, slots=True)
class LinkKey:
    key: str
    role: str  # PRODUCED | CONSUMED
    trace_id: str
    span_id: str
    start_ns: int


@dataclass(frozen=True, slots=True)
class ResolvedLink:
    """The span that wrote something and the span that reacted to it, in their own traces."""

    key: str
    producer_trace_id: str
    producer_span_id: str
    consumer_trace_id: str
    consumer_span_id: str


class LinkStore(Protocol):
    def get_trace(self, trace_id: str) -> list[SpanRecord]: ...

    def link_rows(self, keys: Sequence[str]) -> list[LinkKey]: ...


def link_keys(spans: Iterable[SpanRecord]) -> list[LinkKey]:
    """The link keys the spans carry; anything that is not a short string is ignored."""
    rows: dict[tuple[str, str, str, str], LinkKey] = {}
    for span in spans:  # on the ingest path: most spans carry no link, so that costs two dict lookups
        get = span.attributes.get
        for attribute, role in _ROLES:
            value = get(attribute)
            if value is None:
                continue
            for key in _strings(value):
                rows[(key, role, span.trace_id, span.span_id)] = LinkKey(key, role, span.trace_id, span.span_id,
                                                                         span.start_ns)
    return list(rows.values())


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value[:MAX_KEYS] if isinstance(v, str) and 0 < len(v) <= _MAX_KEY_LENGTH]


def resolve(rows: Iterable[LinkKey]) -> list[ResolvedLink]:
    """Every consumer row joined to its producer of the same key."""
    producers: dict[str, list[LinkKey]] = {}
    consumers: list[LinkKey] = []
    for row in rows:
        (producers.setdefault(row.key, []) if row.role == PRODUCED else consumers).append(row)
    resolved = []
    for consumer in consumers:
        candidates = sorted(producers.get(consumer.key, ()), key=lambda r: r.start_ns)
        if not candidates:
            continue
        before = [p for p in candidates if p.start_ns <= consumer.start_ns]
        producer = before[-1] if before else candidates[0]
        resolved.append(ResolvedLink(consumer.key, producer.trace_id, producer.span_id, consumer.trace_id,
                                     consumer.span_id))
    return resolved


def trace_links(store: LinkStore, trace_id: str, spans: Sequence[SpanRecord] | None = None) -> list[ResolvedLink]:
    """Links from or to one trace: its writers' consumers and its consumers' writers."""
    own = link_keys(store.get_trace(trace_id) if spans is None else spans)
    if not own:
        return []
    rows = store.link_rows(sorted({r.key for r in own}))
    return [link for link in resolve(rows) if trace_id in (link.producer_trace_id, link.consumer_trace_id)]
