"""The DynamoDB store, for teams whose traces outgrow one machine (table design: dynamodb_table.py).

URL: `dynamodb://<table>?region=<region>&endpoint_url=<url>&create=1&ttl_days=30&lookback_days=30`
- `create=1` creates the table (and turns TTL on) if it does not exist;
- `ttl_days` sets each item's `expires` (0: never);
- `lookback_days` bounds how far back listings walk the day buckets when no `since` is given
  (default: `ttl_days`, or 30).

It pays per invocation, not per span: an invocation's spans are one compressed item per trace
(dynamodb_groups), its platform record, trace ids and log lines one request item, and the
listings a few pages per write (dynamodb_pages).

Writes: each item the batch touches is first put as new (condition `attribute_not_exists`), without
reading; only the keys whose condition failed are read (one strongly consistent BatchGetItem) and
merged by the merge rules (rules.py), then put again under a version condition. The pages of what
changed are written before the items, and the puts go out in parallel. A writer that loses a race (or read a stale
item) re-reads and merges again, so two collectors never lose each other's spans or outcomes.
Every step is idempotent: if the process dies half way, the redelivered batch completes it
(pages of items that were never written are skipped by readers).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hoptrace_collector.store import dynamodb_groups as groups
from hoptrace_collector.store import dynamodb_logs, dynamodb_pages, dynamodb_streams, links, links_dynamodb, rules
from hoptrace_collector.store.base import StoreError, UnstorableError
from hoptrace_collector.store.dynamodb_io import DynamoCalls
from hoptrace_collector.store.dynamodb_items import (
    Request,
    TraceState,
    dlq_from,
    dlq_item,
    with_ttl,
)
from hoptrace_collector.store.dynamodb_pages import GROUPS, INVOCATIONS, MESSAGES
from hoptrace_collector.store.dynamodb_registry import INVOCATIONS as INVOCATION_NAMES
from hoptrace_collector.store.dynamodb_registry import QUEUES, SPANS, Registry
from hoptrace_collector.store.dynamodb_table import (
    DAY_NS,
    LAYOUT,
    META_KEY,
    SHARDS,
    create_table,
    day,
    dlq_key,
    group_key,
    page_partition,
    request_key,
)
from hoptrace_collector.store.dynamodb_write import COLD, ERROR, Entries, WritePlan, group_put
from hoptrace_collector.store.loglines import InvocationKey, LogLine
from hoptrace_collector.store.model import (
    DlqMessage,
    FunctionStats,
    InvocationRecord,
    SpanRecord,
    TraceFilter,
    TraceSummary,
    WriteResult,
)
from hoptrace_collector.store.streamstate import Position, StreamState

MAX_TEXT_SCAN = 2000  # traces examined for a TraceFilter.text search (no index can answer it)
#: How much later than a trace's start the first span of a listed group may begin and still be
#: found by an `until` filter (pages are ordered by their spans' starts, a trace by its first).
UNTIL_SLACK_NS = 3600 * 1_000_000_000
_RETRIES = 10


class DynamoStore:
    #: `write(..., logs=...)` takes an invocation's log lines with its records (ingest uses it).
    logs_with_records = True

    def __init__(self, table: str, client: Any, url: str | None = None, ttl_days: float = 30.0,
                 lookback_days: float | None = None) -> None:
        self.table = table
        self.url = url or f"dynamodb://{table}"
        self.ttl_days = ttl_days
        self.lookback_ns = int((lookback_days or ttl_days or 30) * DAY_NS)
        self.io = DynamoCalls(client, table)
        self.registry = Registry(self.io)
        self._layout: str | None = None  # "read" once checked, "write" once marked

    @classmethod
    def from_url(cls, url: str) -> DynamoStore:
        parts = urlsplit(url)
        table = parts.netloc or parts.path.strip("/")
        if not table:
            raise StoreError(f"dynamodb URL {url!r} names no table: use dynamodb://<table>?region=<region>")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"region", "endpoint_url", "create", "ttl_days", "lookback_days"}
        if unknown:
            raise StoreError(f"dynamodb URL {url!r}: unknown option(s) {', '.join(sorted(unknown))}")
        try:
            ttl_days = float(query.get("ttl_days", 30))
            lookback = float(query["lookback_days"]) if "lookback_days" in query else None
        except ValueError as exc:
            raise StoreError(f"dynamodb URL {url!r}: ttl_days and lookback_days must be numbers") from exc
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise StoreError("the dynamodb store needs boto3: pip install boto3") from exc
        client = boto3.client("dynamodb", region_name=query.get("region"), endpoint_url=query.get("endpoint_url"),
                              config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                            max_pool_connections=32))
        if query.get("create", "0").lower() in ("1", "true", "yes"):
            try:
                create_table(client, table)
            except Exception as exc:
                raise StoreError(f"could not create DynamoDB table {table!r}: {exc}") from exc
        return cls(table, client, url, ttl_days, lookback)

    # -- the table's layout --------------------------------------------------------------------------
    def _ready(self, writing: bool = False) -> None:
        """Refuse a table of another layout once per process, loudly: an upgrade must never show nothing."""
        if self._layout == "write" or (self._layout == "read" and not writing):
            return
        meta = self.io.call("get_item", TableName=self.table, Key=META_KEY, ConsistentRead=True).get("Item")
        if meta is None:
            old = next(iter(self.io.query(KeyConditionExpression="pk = :p", Limit=1,
                                          ExpressionAttributeValues={":p": {"S": SPANS}})), None)
            if old is not None:
                raise StoreError(
                    f"DynamoDB table {self.table!r} holds hoptrace's per-span layout (layout 1), which this version "
                    f"neither reads nor writes: store into a new table (dynamodb://<new-table>?create=1, or redeploy "
                    f"the stack, which creates `<stack>-spans2`); the old table's items expire by TTL on their own "
                    f"(see docs/collector.md, 'Upgrading from layout 1')")
            if writing:
                self.io.call("put_item", TableName=self.table, Item={**META_KEY, "v": {"N": str(LAYOUT)}})
        elif int(meta["v"]["N"]) != LAYOUT:
            raise StoreError(f"DynamoDB table {self.table!r} holds hoptrace layout {meta['v']['N']}; this version "
                             f"reads layout {LAYOUT}: use the hoptrace version that wrote it, or a new table")
        self._layout = "write" if writing else "read"

    # -- writing -------------------------------------------------------------------------------------
    def write(self, spans: Sequence[SpanRecord] = (), invocations: Sequence[InvocationRecord] = (),
              dlq: Sequence[DlqMessage] = (), logs: Sequence[LogLine] = ()) -> WriteResult:
        """Store everything (see Store.write); `logs` go into their invocations' request items in the same
        write, which is what makes an invocation with log lines cost one request item, not two."""
        try:
            self._ready(writing=True)
            return self._write(spans, invocations, dlq, logs)
        except (UnicodeEncodeError, OverflowError) as exc:  # while items are built: the records, not the table
            raise UnstorableError(f"DynamoDB store {self.table!r}: the batch holds a record that cannot be stored "
                                  f"({type(exc).__name__}: {exc})") from exc

    def _write(self, spans: Sequence[SpanRecord], invocations: Sequence[InvocationRecord],
               dlq: Sequence[DlqMessage], logs: Sequence[LogLine]) -> WriteResult:
        plan = WritePlan(spans, invocations, logs, self.table, self.ttl_days)
        pending = plan.pending()
        for attempt in range(_RETRIES):
            if not pending:
                break
            # The first pass reads nothing: almost every item a batch touches is new, and its put is conditional
            # on the item not existing, so a put onto an existing item (a redelivery, an invocation whose lines
            # came in two batches, another writer) fails its condition and is merged again from a strongly
            # consistent read. A read before every write cost as much as the writes' rounding to 1 KB did.
            stored = {} if attempt == 0 else {(i["pk"]["S"], i["sk"]["S"]): i for i in self.io.batch_get(
                [plan.item_key(k) for k in pending], consistent=True)}
            merged = plan.merge(pending, stored, time.time_ns())
            self._note(merged.entries)
            # pages first: an item is never stored unlisted (readers skip entries of items not written yet)
            self.io.batch_write([*dynamodb_pages.items(merged.entries.pages, self._expires), *merged.extra])
            held = self.io.put_all([put for _, put in merged.puts])
            pending = {key for (key, _), ok in zip(merged.puts, held, strict=True) if not ok}
        else:
            raise StoreError(f"DynamoDB table {self.table!r}: items kept changing under this writer "
                             f"({', '.join(k[2] for k in list(pending)[:3])}); the batch will be retried")
        written = sum(plan.spans_written.values())
        dlq_written = self._write_dlq(dlq) if dlq else 0
        # a batch's own repeats of a span count as unchanged
        return WriteResult(written, len(spans) - written, sum(plan.records_written.values()), dlq_written)

    def write_logs(self, lines: Sequence[LogLine]) -> int:
        if not lines:
            return 0
        self.write(logs=lines)
        return len(lines)

    def write_stream_state(self, state: StreamState) -> None:
        dynamodb_streams.write_state(self.io, state, self.ttl_days)

    def write_pending_lines(self, log_group: str, lines: Sequence[LogLine]) -> None:
        dynamodb_streams.write_pending(self.io, log_group, lines, self.ttl_days)

    def stream_state(self, log_group: str, log_stream: str, position: Position, *,
                     after: bool = False) -> StreamState | None:
        return dynamodb_streams.state(self.io, log_group, log_stream, position, after)

    def pending_lines(self, log_group: str, log_stream: str, after: Position,
                      until: Position | None) -> list[LogLine]:
        return dynamodb_streams.pending(self.io, log_group, log_stream, after, until)

    def _note(self, entries: Entries) -> None:
        """The registry's days: functions with spans or invocation records, queues with messages."""
        for listing, sections in entries.pages.items():
            if listing[:2] in ("f:", "b:"):
                for entry in sections.get(GROUPS, ()):
                    self.registry.note(SPANS, listing[2:], day(entry[2]))
                for entry in sections.get(INVOCATIONS, ()):
                    self.registry.note(INVOCATION_NAMES, listing[2:], day(entry[1]))

    def _expires(self, item: dict[str, Any], time_ns: int) -> dict[str, Any]:
        return with_ttl(item, time_ns, self.ttl_days)

    def _write_dlq(self, dlq: Sequence[DlqMessage]) -> int:
        merged: dict[tuple[str, str], DlqMessage] = {}
        for message in dlq:
            key = (message.queue, message.message_id)
            merged[key] = rules.merge_dlq(merged.get(key), message)
        stored = {(m.queue, m.message_id): m for m in map(dlq_from, self.io.batch_get(
            [dlq_key(*key) for key in merged], consistent=True))}
        entries, puts = Entries(), []
        for key, message in merged.items():
            new = rules.merge_dlq(stored.get(key), message)
            if new == stored.get(key):
                continue
            puts.append(dlq_item(new, self.ttl_days))
            entries.add("q", MESSAGES, [new.queue, new.message_id, new.first_seen_ns])
            self.registry.note(QUEUES, new.queue, day(new.first_seen_ns))
        self.io.batch_write([*dynamodb_pages.items(entries.pages, self._expires), *puts])
        return len(puts)

    # -- reading ---------------------------------------------------------------------------------------
    def invocation_logs(self, keys: Sequence[InvocationKey]) -> list[LogLine]:
        self._ready()
        return dynamodb_logs.read(self.io, keys)

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        self._ready()
        return sorted((s.span for s in self._trace_versions(trace_id).values()),
                      key=lambda s: (s.start_ns, s.span_id))

    def _trace_versions(self, trace_id: str) -> dict[str, groups.Stored]:
        items = self.io.query(KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                              ExpressionAttributeValues={":p": {"S": "T#" + trace_id}, ":s": {"S": "G#"}})
        return groups.best(s for item in items for s in groups.decode(trace_id, item["z"]["B"]))

    def _loaded(self, trace_ids: list[str]) -> dict[str, list[SpanRecord]]:
        """Each trace's spans, read in parallel (one Query per trace)."""
        if len(trace_ids) <= 1:
            return {t: [s.span for s in self._trace_versions(t).values()] for t in trace_ids}
        with ThreadPoolExecutor(min(8, len(trace_ids))) as pool:
            found = list(pool.map(self._trace_versions, trace_ids))
        return {t: [s.span for s in versions.values()] for t, versions in zip(trace_ids, found, strict=True)}

    def list_traces(self, flt: TraceFilter) -> list[TraceSummary]:
        self._ready()
        seen: set[str] = set()
        scanned = [0]

        def resolve(batch: list[Any]) -> list[tuple[int, TraceSummary]]:
            ids = [t for t in dict.fromkeys(e[0] for e in batch) if t not in seen]
            seen.update(ids)
            out = []
            for trace_id, spans in self._loaded(ids).items():
                state = TraceState.of(trace_id, spans)
                if state is None or not _trace_matches(state, flt):
                    continue
                if flt.text:
                    scanned[0] += 1
                    if scanned[0] > MAX_TEXT_SCAN or not any(rules.matches_text(s, flt.text) for s in spans):
                        continue
                out.append((state.start_ns, state.summary()))
            return out

        if flt.trace_id is not None or flt.request_id is not None:
            ids = [flt.trace_id] if flt.trace_id else self._traces_of_request(flt.request_id or "")
            found = sorted(resolve([[t] for t in ids]), key=lambda pair: -pair[0])
            return [summary for _, summary in found][:flt.limit]
        if flt.service is not None:
            keys = [f"s:{flt.service}", f"b:{flt.service}"]
        elif flt.function is not None:
            keys = [f"f:{flt.function}", f"b:{flt.function}"]
        else:
            keys = ["*"]
        wanted = 0
        if keys == ["*"]:
            wanted = (ERROR if flt.status == "error" else 0) | (COLD if flt.cold_start else 0)
        candidates = (c for c in self._entries(keys, SPANS, [flt.function] if flt.function else None, GROUPS,
                                               flt.since_ns, flt.until_ns) if c[1][3] & wanted == wanted)
        out = []
        for summary in dynamodb_pages.in_order(candidates, resolve, max(flt.limit, 25)):
            out.append(summary)
            if len(out) >= flt.limit or scanned[0] > MAX_TEXT_SCAN:
                break
        return out

    def _traces_of_request(self, request_id: str) -> list[str]:
        ids: dict[str, None] = {}
        for item in self.io.query(KeyConditionExpression="pk = :p",
                                  ExpressionAttributeValues={":p": {"S": "R#" + request_id}}):
            for trace_id in sorted(item.get("tr", {}).get("SS", ())):
                ids[trace_id] = None
        return list(ids)

    def _entries(self, keys: list[str], kind: str, names: list[str] | None, section: str, since_ns: int | None,
                 until_ns: int | None) -> Iterator[tuple[int, list[Any]]]:
        """Entries of `section` under `keys`, newest first, over the days the registry says hold data."""
        now = time.time_ns()
        high = until_ns + UNTIL_SLACK_NS if until_ns is not None else now + DAY_NS
        low = since_ns if since_ns is not None else now - self.lookback_ns
        if high < low:
            return iter(())
        days = self.registry.days(kind, names, day(low), day(high))
        return dynamodb_pages.entries(self.io, lambda d: [page_partition(k, d, s) for k in keys
                                                          for s in range(SHARDS)], days, section, low, high)

    def spans(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
              errors_only: bool = False, cold_starts_only: bool = False, limit: int = 1000) -> list[SpanRecord]:
        self._ready()
        wanted = (ERROR if errors_only else 0) | (COLD if cold_starts_only else 0)
        keys = [f"f:{function}", f"b:{function}"] if function is not None else ["*"]
        seen: set[tuple[str, str]] = set()
        emitted: set[tuple[str, str]] = set()

        def resolve(batch: list[Any]) -> list[tuple[int, SpanRecord]]:
            wanted_keys = [k for k in dict.fromkeys((e[0], e[1]) for e in batch) if k not in seen]
            seen.update(wanted_keys)
            out = []
            for item in self.io.batch_get([group_key(*k) for k in wanted_keys]):
                for stored in groups.best(groups.decode(item["pk"]["S"][2:], item["z"]["B"])).values():
                    span = stored.span
                    if ((function is not None and span.function != function)
                            or (errors_only and span.status != "error") or (cold_starts_only and not span.cold_start)
                            or (since_ns is not None and span.start_ns < since_ns)
                            or (until_ns is not None and span.start_ns > until_ns)
                            or (span.trace_id, span.span_id) in emitted):
                        continue
                    emitted.add((span.trace_id, span.span_id))
                    out.append((span.start_ns, span))
            return out

        candidates = (c for c in self._entries(keys, SPANS, [function] if function else None, GROUPS, since_ns,
                                               until_ns) if c[1][3] & wanted == wanted)
        out: list[SpanRecord] = []
        for span in dynamodb_pages.in_order(candidates, resolve, min(max(limit, 25), 100)):
            if len(out) >= limit:
                break
            out.append(span)
        return out

    def invocations(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
                    outcomes: Sequence[str] | None = None, limit: int = 1000) -> list[InvocationRecord]:
        self._ready()
        names = [function] if function is not None else sorted(self.registry.entries(INVOCATION_NAMES))
        allowed = None if outcomes is None else set(outcomes)
        keys = [k for name in names for k in (f"f:{name}", f"b:{name}")]
        seen: set[tuple[str, str]] = set()

        def resolve(batch: list[Any]) -> list[tuple[int, InvocationRecord]]:
            wanted = [k for k in dict.fromkeys((e[3], e[0]) for e in batch) if k not in seen]
            seen.update(wanted)
            out = []
            for item in self.io.batch_get([request_key(*k) for k in wanted]):
                record = Request.from_item(item).record
                if record is None or (allowed is not None and record.outcome not in allowed) or (
                        since_ns is not None and record.time_ns < since_ns) or (
                        until_ns is not None and record.time_ns > until_ns):
                    continue
                out.append((record.time_ns, record))
            return out

        if not keys:
            return []
        candidates = (c for c in self._entries(keys, INVOCATION_NAMES, names, INVOCATIONS, since_ns, until_ns)
                      if allowed is None or c[1][2] in allowed)  # each change wrote its outcome
        out: list[InvocationRecord] = []
        for record in dynamodb_pages.in_order(candidates, resolve, min(max(limit, 25), 100)):
            if len(out) >= limit:
                break
            out.append(record)
        return out

    def dlq_messages(self, *, queue: str | None = None, limit: int = 1000) -> list[DlqMessage]:
        self._ready()
        seen: set[tuple[str, str]] = set()

        def resolve(batch: list[Any]) -> list[tuple[int, DlqMessage]]:
            wanted = [k for k in dict.fromkeys((e[0], e[1]) for e in batch) if k not in seen]
            seen.update(wanted)
            return [(m.first_seen_ns, m) for m in map(dlq_from, self.io.batch_get([dlq_key(*k) for k in wanted]))]

        candidates = (c for c in self._entries(["q"], QUEUES, None if queue is None else [queue], MESSAGES, None,
                                               None) if queue is None or c[1][0] == queue)
        out: list[DlqMessage] = []
        for message in dynamodb_pages.in_order(candidates, resolve, 100):
            if len(out) >= limit:
                break
            out.append(message)
        return out

    def function_stats(self, *, since_ns: int, until_ns: int, bucket_s: int = 60,
                       function: str | None = None) -> list[FunctionStats]:
        self._ready()
        bucket_ns = int(bucket_s * 1_000_000_000)
        if bucket_ns <= 0:
            raise StoreError(f"bucket_s must be positive, got {bucket_s}")
        rows: list[tuple[str, int, int, bool, bool]] = []
        for name in [function] if function is not None else self.functions():
            chosen: dict[tuple[str, str], list[Any]] = {}
            for _time, entry in self._entries([f"f:{name}", f"b:{name}"], SPANS, [name], GROUPS, since_ns,
                                              until_ns - 1):
                for row in entry[4]:
                    if since_ns <= row[1] < until_ns:
                        key = (entry[0], row[0])
                        old = chosen.get(key)
                        if old is None or (row[4], row[5]) > (old[4], old[5]):
                            chosen[key] = row
            rows.extend((name, rules.bucket_start(row[1], bucket_ns), row[2], bool(row[3] & ERROR),
                         bool(row[3] & COLD)) for row in chosen.values())
        rows.sort()
        return list(rules.stats_from_rows(rows))

    def functions(self) -> list[str]:
        self._ready()
        return sorted(self.registry.entries(SPANS))

    def link_rows(self, keys: Sequence[str]) -> list[links.LinkKey]:
        """Both sides of each producer -> consumer link key (see `links`)."""
        return links_dynamodb.rows(self.io, keys)

    # -- retention -------------------------------------------------------------------------------------
    def delete_older_than(self, cutoff_ns: int) -> int:
        """Explicit retention by a full table scan; in production the `expires` TTL does this for free."""
        self._ready(writing=True)
        deletes: list[dict[str, Any]] = []
        puts: list[dict[str, Any]] = []
        removed = 0
        for item in self.io.scan(FilterExpression="t < :c", ExpressionAttributeValues={":c": {"N": str(cutoff_ns)}}):
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            key = {"pk": item["pk"], "sk": item["sk"]}
            if pk.startswith("T#") and sk.startswith("G#"):
                spans = groups.decode(pk[2:], item["z"]["B"])
                kept = [s for s in spans if s.span.start_ns >= cutoff_ns]
                removed += len({s.span.span_id for s in spans} - {s.span.span_id for s in kept})
                if kept:
                    puts.append(group_put((pk[2:], sk[2:]), kept, item, self.table, self.ttl_days)["Item"])
                else:
                    deletes.append(key)
            elif pk.startswith("P#"):
                kept_page = _page_after(dynamodb_pages.body(item), cutoff_ns)
                if kept_page:
                    puts.append(dynamodb_pages.rewritten(item, kept_page))
                else:
                    deletes.append(key)
            elif pk.startswith("R#") and sk.startswith("F#"):
                request = Request.from_item(item)
                if request.record is not None and request.record.time_ns >= cutoff_ns:
                    request.lines = {i: line for i, line in request.lines.items() if line.time_ns >= cutoff_ns}
                    request.first_ns = min([request.record.time_ns, *(x.time_ns for x in request.lines.values())])
                    puts.append(request.item(self.ttl_days))
                else:
                    removed += request.record is not None
                    deletes.append(key)
            elif pk.startswith(("R#", "L#", dynamodb_streams.PREFIX)):  # log overflow, link keys, stream states
                deletes.append(key)
            elif pk.startswith("Q#"):
                removed += 1
                deletes.append(key)
        self.io.batch_write(puts, deletes)
        self._forget_empty_functions(cutoff_ns)
        return removed

    def _forget_empty_functions(self, cutoff_ns: int) -> None:
        """Functions whose spans all went are no longer listed; the others start at the cutoff's day."""
        for kind in (SPANS, INVOCATION_NAMES, QUEUES):
            for name, (_first, last) in self.registry.entries(kind).items():
                if kind == SPANS and (last < day(cutoff_ns) or next(self._entries(
                        [f"f:{name}", f"b:{name}"], SPANS, [name], GROUPS, cutoff_ns, None), None) is None):
                    self.registry.forget(kind, name)
                else:
                    self.registry.narrow(kind, name, day(cutoff_ns))

    def close(self) -> None:
        self.io.close()
        close = getattr(self.io.client, "close", None)
        if close is not None:
            close()


def _page_after(page: dict[str, list[list[Any]]], cutoff_ns: int) -> dict[str, list[list[Any]]]:
    kept: dict[str, list[list[Any]]] = {}
    for entry in page.get(GROUPS, ()):
        if entry[2] >= cutoff_ns:
            kept.setdefault(GROUPS, []).append([*entry[:4], [r for r in entry[4] if r[1] >= cutoff_ns]])
    for section, position in ((INVOCATIONS, 1), (MESSAGES, 2)):
        rows = [e for e in page.get(section, ()) if e[position] >= cutoff_ns]
        if rows:
            kept[section] = rows
    return kept


def _trace_matches(state: TraceState, flt: TraceFilter) -> bool:
    summary = state.summary()
    if flt.since_ns is not None and summary.start_ns < flt.since_ns:
        return False
    if flt.until_ns is not None and summary.start_ns > flt.until_ns:
        return False
    if flt.service is not None and f"s:{flt.service}" not in state.keys:
        return False
    if flt.function is not None and f"f:{flt.function}" not in state.keys:
        return False
    if flt.status is not None and (summary.error_count > 0) != (flt.status == "error"):
        return False
    if flt.cold_start is not None and (summary.cold_starts > 0) != flt.cold_start:
        return False
    return flt.min_duration_ms is None or summary.duration_ns >= flt.min_duration_ms * 1_000_000

