"""A span group: the spans of one trace that one write brought, as one compressed DynamoDB item.

DynamoDB bills a write per started KB of an item, so the invocation's spans (which already
travel together in one log line) are stored together: positional rows (no repeated field
names), times relative to the group's first start, the resource and the names written once,
then zlib started from a preset dictionary of the layer's vocabulary (dynamodb_zdict: about half
the bytes of plain zlib on a typical group). A typical invocation of 3-4 spans fits one write unit.

Each span keeps the time its version was stored (`w`): when two versions of one span sit in
different groups (a changed span written alone later), readers keep the highest rank, then the
latest stored (see `rules.span_rank`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from hoptrace_collector.store import dynamodb_zdict, rules
from hoptrace_collector.store.model import SpanRecord

#: Raw JSON bytes per group item before compression; a larger write is cut into several groups.
#: Compression only shrinks it, so every item stays far under DynamoDB's 400 KB.
MAX_RAW_BYTES = 300_000
#: A single span whose compressed form passes this cannot be stored (the quarantine isolates it).
MAX_ITEM_BYTES = 390_000
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


@dataclass(slots=True)
class Stored:
    """One span as a group holds it: the record, its rank and when this version was stored."""

    span: SpanRecord
    rank: int
    written_ns: int


def group_id(spans: Iterable[SpanRecord]) -> str:
    """The smallest span id among the spans whose parent is not among them (see dynamodb_table)."""
    spans = list(spans)
    ids = {s.span_id for s in spans}
    roots = [s.span_id for s in spans if s.parent_id not in ids]
    return min(roots or ids)


def split(spans: list[SpanRecord]) -> list[list[SpanRecord]]:
    """The write's spans of one trace, cut so each part's rows stay under MAX_RAW_BYTES."""
    parts: list[list[SpanRecord]] = [[]]
    size = 0
    for span in sorted(spans, key=lambda s: s.span_id):
        row = len(_dumps(_row(span, 0, {}, {}, 0)))
        if parts[-1] and size + row > MAX_RAW_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(span)
        size += row
    return parts


def _index(table: dict[str, int], value: str) -> int:
    return table.setdefault(value, len(table))


def _row(span: SpanRecord, base: int, names: dict[str, int], resources: dict[str, int], written_ns: int) -> list:
    return [span.span_id, span.parent_id, span.name, span.kind, span.start_ns - base, span.end_ns - span.start_ns,
            span.status, span.status_message, _index(names, span.service), _index(names, span.function),
            span.request_id, int(span.cold_start), span.trigger, span.attributes or 0, span.events or 0,
            span.links or 0, _index(resources, _dumps(dict(sorted(span.resource.items())))), span.source,
            int(span.pending), written_ns]


def encode(spans: list[Stored]) -> bytes:
    """The compressed body of a group item."""
    base = min(s.span.start_ns for s in spans)
    names: dict[str, int] = {}
    resources: dict[str, int] = {}
    rows = [_row(s.span, base, names, resources, s.written_ns) for s in sorted(spans, key=lambda s: s.span.span_id)]
    body = _dumps({"b": base, "n": list(names), "r": [json.loads(r) for r in resources], "s": rows})
    return dynamodb_zdict.deflate(body.encode())


def decode(trace_id: str, blob: bytes) -> list[Stored]:
    body = json.loads(dynamodb_zdict.inflate(blob))
    base, names, resources = body["b"], body["n"], body["r"]
    out = []
    for (span_id, parent, name, kind, start, duration, status, message, service, function, request_id, cold,
         trigger, attributes, events, links, resource, source, pending, written_ns) in body["s"]:
        span = SpanRecord(trace_id, span_id, parent, name, kind, base + start, base + start + duration, status,
                          message, names[service], names[function], request_id, bool(cold), trigger,
                          attributes or {}, events or [], links or [], dict(resources[resource]), source,
                          bool(pending))
        out.append(Stored(span, rules.span_rank(span), written_ns))
    return out


def best(versions: Iterable[Stored]) -> dict[str, Stored]:
    """One version per span id: the highest rank, then the latest stored."""
    chosen: dict[str, Stored] = {}
    for stored in versions:
        old = chosen.get(stored.span.span_id)
        if old is None or (stored.rank, stored.written_ns) > (old.rank, old.written_ns):
            chosen[stored.span.span_id] = stored
    return chosen
