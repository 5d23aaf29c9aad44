"""One write of the DynamoDB store, planned: which items a batch touches, and what it changes in each.

A batch touches span groups (its spans, by trace, dynamodb_groups) and request items (its platform
records, its invocation spans' trace ids, its log lines, dynamodb_items.Request). `WritePlan.merge`
takes what is stored (nothing on the first pass, then a consistent BatchGetItem of the keys whose
condition failed) and returns the conditional puts of the items that change, plus the listing-page
entries for them; the store writes the pages, then the puts, and merges again only the keys whose
condition failed (the item existed, or another writer came first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from hoptrace_collector.store import dynamodb_groups as groups
from hoptrace_collector.store import dynamodb_logs, links, links_dynamodb, rules
from hoptrace_collector.store.base import UnstorableError
from hoptrace_collector.store.dynamodb_items import MAX_LOG_BYTES, Request, encode_lines, listing_keys, with_ttl
from hoptrace_collector.store.dynamodb_pages import GROUPS, INVOCATIONS
from hoptrace_collector.store.dynamodb_table import group_key, request_key
from hoptrace_collector.store.loglines import InvocationKey, LogLine
from hoptrace_collector.store.model import InvocationRecord, SpanRecord

ERROR, COLD = 1, 2
GroupKey = tuple[str, str]  # (trace id, group id)


class Entries:
    """What one write adds to the listing pages: {key: {section: [entry, ...]}}."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, list[list[Any]]]] = {}

    def add(self, key: str, section: str, entry: list[Any]) -> None:
        self.pages.setdefault(key, {}).setdefault(section, []).append(entry)


@dataclasses.dataclass
class Merged:
    """One merge pass: puts (with their owner key), page entries, unconditional extra items."""

    puts: list[tuple[Any, dict[str, Any]]] = dataclasses.field(default_factory=list)
    entries: Entries = dataclasses.field(default_factory=Entries)
    extra: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # link keys, log overflow


class WritePlan:
    def __init__(self, spans: Sequence[SpanRecord], invocations: Sequence[InvocationRecord],
                 logs: Sequence[LogLine], table: str, ttl_days: float) -> None:
        self.table, self.ttl_days, self.span_count = table, ttl_days, len(spans)
        by_trace: dict[str, list[SpanRecord]] = {}
        for _rank, span in rules.winners(spans).values():
            by_trace.setdefault(span.trace_id, []).append(span)
        self.groups: dict[GroupKey, list[SpanRecord]] = {}
        for trace_id, trace_spans in by_trace.items():
            for part in groups.split(trace_spans):
                self.groups[(trace_id, groups.group_id(part))] = part
        self.records: dict[InvocationKey, InvocationRecord] = {}
        for record in invocations:
            key = (record.function, record.request_id)
            self.records[key] = rules.merge_invocation(self.records.get(key), record)
        self.traces: dict[InvocationKey, set[str]] = {}
        self.times: dict[InvocationKey, int] = {}
        for span in spans:
            if span.request_id:
                key = (span.function, span.request_id)
                self.traces.setdefault(key, set()).add(span.trace_id)
                self.times[key] = min(self.times.get(key, span.start_ns), span.start_ns)
        for key, record in self.records.items():
            if record.trace_id:
                self.traces.setdefault(key, set()).add(record.trace_id)
        self.lines: dict[InvocationKey, dict[str, LogLine]] = {}
        for line in logs:
            self.lines.setdefault((line.function, line.request_id), {})[line.event_id] = line
        self.requests: set[InvocationKey] = set(self.records) | set(self.traces) | set(self.lines)
        # invocation entries ride on the function's `b:` page when this write has one, else `f:`
        self.b_pages = {s.function for s in spans if s.function == s.service}
        self.spans_written: dict[GroupKey, int] = {}
        self.records_written: dict[InvocationKey, int] = {}

    def pending(self) -> set[tuple[str, str, str]]:
        """Every key the write touches: ("g", trace id, group id) and ("r", function, request id)."""
        return {("g", *k) for k in self.groups} | {("r", *k) for k in self.requests}

    @staticmethod
    def item_key(key: tuple[str, str, str]) -> dict[str, Any]:
        return group_key(key[1], key[2]) if key[0] == "g" else request_key(key[1], key[2])

    def merge(self, pending: set[tuple[str, str, str]], stored: dict[tuple[str, str], dict[str, Any]],
              now: int) -> Merged:
        """Merge the pending keys with what is stored; the puts of what changed."""
        out = Merged()
        for key in sorted(pending):
            found = self.item_key(key)
            item = stored.get((found["pk"]["S"], found["sk"]["S"]))
            if key[0] == "g":
                self._group((key[1], key[2]), item, now, out)
            else:
                self._request((key[1], key[2]), item, out)
        return out

    # -- span groups -----------------------------------------------------------------------------------
    def _group(self, key: GroupKey, old_item: dict[str, Any] | None, now: int, out: Merged) -> None:
        current = {s.span.span_id: s for s in groups.decode(key[0], old_item["z"]["B"])} if old_item else {}
        stored: list[SpanRecord] = []
        for span in self.groups[key]:
            rank = rules.span_rank(span)
            old = current.get(span.span_id)
            if old is not None and (old.span == span or rank < old.rank):
                continue
            current[span.span_id] = groups.Stored(span, rank, now)
            stored.append(span)
        self.spans_written[key] = len(stored)
        if not stored:
            return
        out.puts.append((("g", *key), group_put(key, list(current.values()), old_item, self.table, self.ttl_days)))
        out.extra.extend(links_dynamodb.items(links.link_keys(stored), self.ttl_days))
        group_entries(key, list(current.values()), out.entries)

    # -- request items ---------------------------------------------------------------------------------
    def _request(self, key: InvocationKey, item: dict[str, Any] | None, out: Merged) -> None:
        old = Request.from_item(item) if item else None
        new = dataclasses.replace(old, traces=set(old.traces), lines=dict(old.lines)) if old else Request(*key)
        if key in self.records:
            new.record = rules.merge_invocation(new.record, self.records[key])
            new.note_time(new.record.time_ns)
        new.traces |= self.traces.get(key, set())
        if key in self.times:
            new.note_time(self.times[key])
        incoming = {i: line for i, line in self.lines.get(key, {}).items() if i not in new.lines}
        if incoming:
            merged = {**new.lines, **incoming}
            if len(encode_lines(merged.values())) <= MAX_LOG_BYTES:
                new.lines = merged
            else:
                out.extra.extend(dynamodb_logs.items(list(incoming.values()), self.ttl_days))
            new.note_time(min(line.time_ns for line in incoming.values()))
        self.records_written[key] = 0
        if old is not None and new.same(old) and new.first_ns == old.first_ns:
            return
        if new.record is not None and (old is None or new.record != old.record):
            self.records_written[key] = 1
            record = new.record
            page = ("b:" if record.function in self.b_pages else "f:") + record.function
            out.entries.add(page, INVOCATIONS, [record.request_id, record.time_ns, record.outcome, record.function])
        new.version = (old.version if old else 0) + 1
        put: dict[str, Any] = {"Item": new.item(self.ttl_days)}
        if old is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put.update(ConditionExpression="v = :v", ExpressionAttributeValues={":v": {"N": str(old.version)}})
        out.puts.append((("r", *key), put))


def group_put(key: GroupKey, spans: list[groups.Stored], old: dict[str, Any] | None, table: str,
              ttl_days: float) -> dict[str, Any]:
    """The conditional put of a group holding `spans` (new: not there yet; replaced: still at `old`'s version)."""
    blob = groups.encode(spans)
    if len(blob) > groups.MAX_ITEM_BYTES:
        raise UnstorableError(f"DynamoDB store {table!r}: span {key[1]} of trace {key[0]} compresses to "
                              f"{len(blob):,} bytes, past DynamoDB's 400 KB item limit")
    version = int(old["v"]["N"]) if old else 0
    item = with_ttl({**group_key(*key), "z": {"B": blob}, "v": {"N": str(version + 1)},
                     "t": {"N": str(min(s.span.start_ns for s in spans))}},
                    max(s.span.start_ns for s in spans), ttl_days)
    if old is None:
        return {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    return {"Item": item, "ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": old["v"]}}


def group_entries(key: GroupKey, spans: list[groups.Stored], entries: Entries) -> None:
    """A group's entry under each listing key its spans touch (`*`, services and functions)."""
    names: set[str] = set()
    for stored in spans:
        names.update(rules.trace_keys(stored.span))
    for listing in ("*", *sorted(listing_keys(names))):
        kind, name = listing[:2], listing[2:]
        under = [s for s in spans if listing == "*" or (kind in ("s:", "b:") and s.span.service == name)
                 or (kind in ("f:", "b:") and s.span.function == name)]
        flags = 0
        stats = []
        for s in under:
            span_flags = (ERROR if s.span.status == "error" else 0) | (COLD if s.span.cold_start else 0)
            flags |= span_flags
            if kind in ("f:", "b:") and s.span.function == name and rules.is_invocation_span(s.span):
                stats.append([s.span.span_id, s.span.start_ns, s.span.duration_ns, span_flags, s.rank, s.written_ns])
        entries.add(listing, GROUPS, [key[0], key[1], max(s.span.start_ns for s in under), flags, stats])
