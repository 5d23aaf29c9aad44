"""The DynamoDB store, for teams whose traces outgrow one machine (table design: dynamodb_table.py).

URL: `dynamodb://<table>?region=<region>&endpoint_url=<url>&create=1&ttl_days=30&lookback_days=30`
- `create=1` creates the table (and turns TTL on) if it does not exist;
- `ttl_days` sets each item's `expires` (0: never);
- `lookback_days` bounds how far back listings walk the day buckets when no `since` is given
  (default: `ttl_days`, or 30).

Writes: spans go with BatchWriteItem (after one BatchGetItem of their stored rank and
signature, so rewrites are counted and pending/platform precedence holds, see rules.py);
then each touched trace's summary is merged and written with a version condition (two
collectors updating one trace retry instead of losing counts), then its listing keys. Every
step is idempotent: if the process dies half way, the redelivered batch completes it.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hoptrace_collector.store import dynamodb_logs, dynamodb_streams, links, links_dynamodb, rules
from hoptrace_collector.store.base import StoreError, UnstorableError
from hoptrace_collector.store.dynamodb_io import DynamoCalls
from hoptrace_collector.store.dynamodb_items import (
    TraceState,
    dlq_from,
    dlq_item,
    invocation_from,
    invocation_item,
    listing_keys,
    request_link_item,
    resource_digest,
    resource_item,
    span_from,
    span_item,
)
from hoptrace_collector.store.dynamodb_registry import INVOCATIONS, QUEUES, SPANS, Registry
from hoptrace_collector.store.dynamodb_table import (
    DAY_NS,
    INDEX,
    SHARDS,
    create_table,
    day,
    dlq_key,
    dlq_partition,
    invocation_key,
    invocation_partition,
    resource_key,
    span_key,
    span_partition,
    summary_key,
    trace_partition,
)
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
_SUMMARY_RETRIES = 10


class DynamoStore:
    def __init__(self, table: str, client: Any, url: str | None = None, ttl_days: float = 30.0,
                 lookback_days: float | None = None) -> None:
        self.table = table
        self.url = url or f"dynamodb://{table}"
        self.ttl_days = ttl_days
        self.lookback_ns = int((lookback_days or ttl_days or 30) * DAY_NS)
        self.io = DynamoCalls(client, table)
        self._resources: dict[str, dict[str, Any]] = {}
        self._written_resources: set[str] = set()
        self.registry = Registry(self.io)
        self._lock = threading.Lock()

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

    # -- writing -------------------------------------------------------------------------------------
    def write(self, spans: Sequence[SpanRecord] = (), invocations: Sequence[InvocationRecord] = (),
              dlq: Sequence[DlqMessage] = ()) -> WriteResult:
        try:
            return self._write(spans, invocations, dlq)
        except (UnicodeEncodeError, OverflowError) as exc:  # while items are built: the records, not the table
            raise UnstorableError(f"DynamoDB store {self.table!r}: the batch holds a record that cannot be stored "
                                  f"({type(exc).__name__}: {exc})") from exc

    def _write(self, spans: Sequence[SpanRecord], invocations: Sequence[InvocationRecord],
               dlq: Sequence[DlqMessage]) -> WriteResult:
        # A request whose invocation record (same write) names the trace needs no separate link item.
        linked = {(r.request_id, r.trace_id) for r in invocations if r.trace_id}
        written, unchanged = self._write_spans(spans, linked) if spans else (0, 0)
        for kind, name, time_ns in {(INVOCATIONS, r.function, day(r.time_ns)) for r in invocations} | {
                (QUEUES, m.queue, day(m.first_seen_ns)) for m in dlq}:
            self.registry.note(kind, name, time_ns)
        invocations_written = self._merge_records(
            invocations, lambda r: invocation_key(r.function, r.request_id), invocation_from,
            rules.merge_invocation, invocation_item, lambda r: (r.function, r.request_id))
        dlq_written = self._merge_records(dlq, lambda m: dlq_key(m.queue, m.message_id), dlq_from, rules.merge_dlq,
                                          dlq_item, lambda m: (m.queue, m.message_id))
        return WriteResult(written, unchanged, invocations_written, dlq_written)

    def _write_spans(self, spans: Sequence[SpanRecord], linked: set[tuple[str, str]]) -> tuple[int, int]:
        chosen = rules.winners(spans)
        stored = {(i["pk"]["S"][2:], i["sk"]["S"][2:]): (int(i["rank"]["N"]), i["sig"]["S"]) for i in
                  self.io.batch_get([span_key(*key) for key in chosen], "pk, sk, #r, sig", {"#r": "rank"},
                                    consistent=True)}
        puts: list[dict[str, Any]] = []
        standing: list[SpanRecord] = []  # the batch's spans that are now the stored version
        written = 0
        for key, (rank, span) in chosen.items():
            digest = self._resource(span.resource, puts)
            item = span_item(span, rank, digest, self.ttl_days)
            old = stored.get(key)
            if old is not None and (old[1] == item["sig"]["S"] or rank < old[0]):
                if old[1] == item["sig"]["S"]:
                    standing.append(span)
                continue
            puts.append(item)
            standing.append(span)
            written += 1
            if span.request_id and (span.request_id, span.trace_id) not in linked:
                puts.append(request_link_item(span.request_id, span.trace_id, span.start_ns, self.ttl_days))
        for function, day_number in sorted({(s.function, day(s.start_ns)) for s in standing}):
            self.registry.note(SPANS, function, day_number)
        puts.extend(links_dynamodb.items(links.link_keys(standing), self.ttl_days))
        self.io.batch_write(puts)
        self._merge_summaries(standing)
        return written, len(spans) - written

    def _resource(self, resource: dict[str, Any], puts: list[dict[str, Any]]) -> str:
        digest, text = resource_digest(resource)
        if digest not in self._written_resources:
            puts.append(resource_item(digest, text))
            self._written_resources.add(digest)
        return digest

    def _merge_summaries(self, spans: list[SpanRecord]) -> None:
        by_trace: dict[str, list[SpanRecord]] = {}
        for span in spans:
            by_trace.setdefault(span.trace_id, []).append(span)
        pending = dict(by_trace)
        keys_written: set[str] = set()
        for _attempt in range(_SUMMARY_RETRIES):
            states = {i["pk"]["S"][2:]: TraceState.from_item(i)
                      for i in self.io.batch_get([summary_key(t) for t in pending], consistent=True)}
            conflicts: dict[str, list[SpanRecord]] = {}
            for trace_id, trace_spans in pending.items():
                old = states.get(trace_id)
                state = TraceState.from_item(old.item(self.ttl_days)) if old else TraceState(trace_id)
                for span in trace_spans:
                    state.add(span)
                if old is not None and state.item(0) == old.item(0):
                    continue
                state.version = (old.version if old else 0) + 1
                # Listing keys go first: a crash before the summary write makes the redelivery redo both.
                # Only new keys are written, all of them when the trace's start moved (their sort key is
                # the start); a writer that lost a race rewrites them from the merged state on its next try.
                new_keys, old_keys = listing_keys(state.keys), listing_keys(old.keys) if old else set()
                if old is None or old.start_ns != state.start_ns or trace_id in keys_written:
                    self.io.batch_write(state.key_items(new_keys, self.ttl_days))
                    keys_written.add(trace_id)
                elif new_keys != old_keys:
                    self.io.batch_write(state.key_items(new_keys - old_keys, self.ttl_days))
                if old_keys - new_keys:
                    self.io.batch_write(deletes=[{"pk": {"S": "T#" + trace_id}, "sk": {"S": "K#" + k}}
                                                 for k in old_keys - new_keys])
                condition = ("attribute_not_exists(pk)" if old is None else "version = :v")
                values = {} if old is None else {":v": {"N": str(old.version)}}
                if not self.io.conditional("put_item", TableName=self.table, Item=state.item(self.ttl_days),
                                           ConditionExpression=condition,
                                           **({"ExpressionAttributeValues": values} if values else {})):
                    conflicts[trace_id] = trace_spans
            if not conflicts:
                return
            pending = conflicts
        raise StoreError(f"DynamoDB table {self.table!r}: trace summaries kept changing under this writer "
                         f"({', '.join(list(pending)[:3])}); the batch will be retried")

    def _merge_records(self, records: Sequence[Any], key: Callable[[Any], dict[str, Any]],
                       decode: Callable[[dict[str, Any]], Any], merge: Callable[[Any, Any], Any],
                       encode: Callable[[Any, float], dict[str, Any]], ident: Callable[[Any], tuple]) -> int:
        """Invocations and DLQ messages: merge with what is stored by the shared rule, write the changes."""
        if not records:
            return 0
        merged: dict[tuple, Any] = {}
        for record in records:
            merged[ident(record)] = merge(merged.get(ident(record)), record)
        stored = {ident(decode(i)): decode(i) for i in self.io.batch_get([key(r) for r in merged.values()])}
        puts = []
        for record_id, record in merged.items():
            old = stored.get(record_id)
            new = merge(old, record)
            if new != old:
                puts.append(encode(new, self.ttl_days))
        self.io.batch_write(puts)
        return len(puts)

    def write_logs(self, lines: Sequence[LogLine]) -> int:
        puts = dynamodb_logs.items(lines, self.ttl_days)
        self.io.batch_write(puts)
        return len(lines) if puts else 0

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

    # -- reading ---------------------------------------------------------------------------------------
    def invocation_logs(self, keys: Sequence[InvocationKey]) -> list[LogLine]:
        return dynamodb_logs.read(self.io, keys)

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        items = list(self.io.query(KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                                   ExpressionAttributeValues={":p": {"S": "T#" + trace_id}, ":s": {"S": "S#"}}))
        spans = self._spans_from(items)
        return sorted(spans, key=lambda s: (s.start_ns, s.span_id))

    def list_traces(self, flt: TraceFilter) -> list[TraceSummary]:
        out: list[TraceSummary] = []
        scanned = 0
        for chunk in _chunks(self._trace_candidates(flt), max(flt.limit, 25)):
            states = {i["pk"]["S"][2:]: TraceState.from_item(i)
                      for i in self.io.batch_get([summary_key(t) for t in chunk])}
            for trace_id in chunk:
                state = states.get(trace_id)
                if state is None or not _trace_matches(state, flt):
                    continue
                if flt.text:
                    scanned += 1
                    if scanned > MAX_TEXT_SCAN:
                        return out
                    if not any(rules.matches_text(s, flt.text) for s in self.get_trace(trace_id)):
                        continue
                out.append(state.summary())
                if len(out) >= flt.limit:
                    return out
        return out

    def _trace_candidates(self, flt: TraceFilter) -> Iterator[str]:
        """Trace ids, newest first, from the narrowest place that can name them."""
        if flt.trace_id is not None or flt.request_id is not None:
            ids = [flt.trace_id] if flt.trace_id else self._traces_of_request(flt.request_id or "")
            states = [TraceState.from_item(i) for i in self.io.batch_get([summary_key(t) for t in ids])]
            yield from (s.trace_id for s in sorted(states, key=lambda s: -s.start_ns))
            return
        if flt.service is not None:
            keys = [f"s:{flt.service}", f"b:{flt.service}"]
        elif flt.function is not None:
            keys = [f"f:{flt.function}", f"b:{flt.function}"]
        else:
            keys = ["*"]
        for item in self._newest(lambda d: [trace_partition(k, d, s) for k in keys for s in range(SHARDS)], SPANS,
                                 [flt.function] if flt.function else None, flt.since_ns, flt.until_ns,
                                 page=max(flt.limit, 25)):
            yield item["pk"]["S"][2:]

    def _traces_of_request(self, request_id: str) -> list[str]:
        items = self.io.query(KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "R#" + request_id}})
        ids = []
        for item in items:
            sk = item["sk"]["S"]
            trace_id = sk[2:] if sk.startswith("T#") else item.get("trace_id", {}).get("S")
            if trace_id and trace_id not in ids:
                ids.append(trace_id)
        return ids

    def spans(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
              errors_only: bool = False, cold_starts_only: bool = False, limit: int = 1000) -> list[SpanRecord]:
        functions = [function] if function is not None else self.functions()
        filters, values = [], {}
        if errors_only:
            filters.append("#status = :error")
            values[":error"] = {"S": "error"}
        if cold_starts_only:
            filters.append("cold = :one")
            values[":one"] = {"N": "1"}
        entries = self._newest(_span_partitions(functions),
                               SPANS, functions, since_ns, until_ns, filters, values, page=min(max(limit, 25), 1000))
        keys = [{"pk": e["pk"], "sk": e["sk"]} for e in _take(entries, limit)]
        found = {(i["pk"]["S"], i["sk"]["S"]): i for i in self.io.batch_get(keys)}
        return self._spans_from([found[(k["pk"]["S"], k["sk"]["S"])] for k in keys
                                 if (k["pk"]["S"], k["sk"]["S"]) in found])

    def invocations(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
                    outcomes: Sequence[str] | None = None, limit: int = 1000) -> list[InvocationRecord]:
        functions = [function] if function is not None else sorted(self.registry.entries(INVOCATIONS))
        filters, values = [], {}
        if outcomes is not None:
            names = [f":o{i}" for i in range(len(outcomes))]
            filters.append(f"outcome IN ({', '.join(names)})")
            values.update({name: {"S": o} for name, o in zip(names, outcomes, strict=True)})
        entries = _take(self._newest(lambda d: [invocation_partition(f, d, s) for f in functions
                                                for s in range(SHARDS)], INVOCATIONS, functions, since_ns, until_ns,
                                     filters, values, page=min(max(limit, 25), 1000)), limit)
        return self._full(entries, invocation_from)

    def dlq_messages(self, *, queue: str | None = None, limit: int = 1000) -> list[DlqMessage]:
        filters, values = ([], {}) if queue is None else (["#queue = :q"], {":q": {"S": queue}})
        entries = _take(self._newest(lambda d: [dlq_partition(d)], QUEUES, None if queue is None else [queue],
                                     None, None, filters, values, page=100), limit)
        return self._full(entries, dlq_from)

    def function_stats(self, *, since_ns: int, until_ns: int, bucket_s: int = 60,
                       function: str | None = None) -> list[FunctionStats]:
        bucket_ns = int(bucket_s * 1_000_000_000)
        if bucket_ns <= 0:
            raise StoreError(f"bucket_s must be positive, got {bucket_s}")
        rows = []
        for name in [function] if function is not None else self.functions():
            for entry in self._newest(_span_partitions([name]), SPANS,
                                      [name], since_ns, until_ns - 1, ["inv = :one"], {":one": {"N": "1"}},
                                      page=1000):
                start = int(entry["g1sk"]["N"])
                rows.append((name, rules.bucket_start(start, bucket_ns), int(entry["end"]["N"]) - start,
                             entry["status"]["S"] == "error", entry["cold"]["N"] == "1"))
        rows.sort()
        return list(rules.stats_from_rows(rows))

    def functions(self) -> list[str]:
        return sorted(self.registry.entries(SPANS))

    def link_rows(self, keys: Sequence[str]) -> list[links.LinkKey]:
        """Both sides of each producer -> consumer link key (see `links`)."""
        return links_dynamodb.rows(self.io, keys)

    def delete_older_than(self, cutoff_ns: int) -> int:
        """Explicit retention by a full table scan; in production the `expires` TTL does this for free."""
        deletes, touched, removed = [], set(), 0
        for item in self.io.scan(ProjectionExpression="pk, sk, g1sk, t",
                                 FilterExpression="g1sk < :c OR t < :c",
                                 ExpressionAttributeValues={":c": {"N": str(cutoff_ns)}}):
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            deletes.append({"pk": item["pk"], "sk": item["sk"]})
            if pk.startswith("T#"):
                touched.add(pk[2:])
            removed += sk.startswith(("S#", "F#", "M#"))
        self.io.batch_write(deletes=deletes)
        for trace_id in touched:
            self._rebuild_summary(trace_id)
        self._forget_empty_functions(cutoff_ns)
        return removed

    def _rebuild_summary(self, trace_id: str) -> None:
        remaining = list(self.io.query(KeyConditionExpression="pk = :p", ConsistentRead=True,
                                       ExpressionAttributeValues={":p": {"S": "T#" + trace_id}}))
        self.io.batch_write(deletes=[{"pk": i["pk"], "sk": i["sk"]} for i in remaining
                                     if not i["sk"]["S"].startswith("S#")])
        spans = [span_from(i, {}) for i in remaining if i["sk"]["S"].startswith("S#")]
        if spans:
            self._merge_summaries(spans)

    def _forget_empty_functions(self, cutoff_ns: int) -> None:
        """Functions whose spans all went are no longer listed; the others start at the cutoff's day."""
        for kind in (SPANS, INVOCATIONS, QUEUES):
            for name, (_first, last) in self.registry.entries(kind).items():
                if kind == SPANS and (last < day(cutoff_ns) or next(self._newest(
                        _span_partitions([name]), SPANS, [name],
                        cutoff_ns, None, page=1), None) is None):
                    self.registry.forget(kind, name)
                else:
                    self.registry.narrow(kind, name, day(cutoff_ns))

    def close(self) -> None:
        close = getattr(self.io.client, "close", None)
        if close is not None:
            close()

    # -- helpers ---------------------------------------------------------------------------------------
    def _newest(self, partitions: Callable[[int], list[str]], kind: str, names: list[str] | None,
                since_ns: int | None, until_ns: int | None, filters: Iterable[str] = (),
                values: dict[str, Any] | None = None, page: int = 100) -> Iterator[dict[str, Any]]:
        """Index entries of the given partitions between since and until, newest first, day by day.

        Only days on which the registry says `names` (of `kind`) have data are read.
        """
        now = time.time_ns()
        high = until_ns if until_ns is not None else now + DAY_NS
        low = since_ns if since_ns is not None else now - self.lookback_ns
        if high < low:
            return
        filters = list(filters)
        attribute_names = {n: n[1:] for n in ("#status", "#queue") if any(n in f for f in filters)}
        for day_number in self.registry.days(kind, names, day(low), day(high)):
            streams = []
            for partition in partitions(day_number):
                query: dict[str, Any] = {
                    "IndexName": INDEX, "ScanIndexForward": False, "Limit": page,
                    "KeyConditionExpression": "g1pk = :p AND g1sk BETWEEN :lo AND :hi",
                    "ExpressionAttributeValues": {":p": {"S": partition}, ":lo": {"N": str(max(low, 0))},
                                                  ":hi": {"N": str(high)}, **(values or {})}}
                if filters:
                    query["FilterExpression"] = " AND ".join(filters)
                if attribute_names:
                    query["ExpressionAttributeNames"] = attribute_names
                streams.append(self.io.query(**query))
            yield from heapq.merge(*streams, key=lambda entry: -int(entry["g1sk"]["N"]))

    def _full(self, entries: list[dict[str, Any]], decode: Callable[[dict[str, Any]], Any]) -> list[Any]:
        found = {(i["pk"]["S"], i["sk"]["S"]): i for i in self.io.batch_get(
            [{"pk": e["pk"], "sk": e["sk"]} for e in entries])}
        return [decode(found[(e["pk"]["S"], e["sk"]["S"])]) for e in entries if (e["pk"]["S"], e["sk"]["S"]) in found]

    def _spans_from(self, items: list[dict[str, Any]]) -> list[SpanRecord]:
        missing = {i["res"]["S"] for i in items if "res" in i} - set(self._resources)
        if missing:
            for item in self.io.batch_get([resource_key(d) for d in missing]):
                self._resources[item["pk"]["S"][4:]] = json.loads(item["json"]["S"])
        return [span_from(i, dict(self._resources.get(i.get("res", {}).get("S", ""), {}))) for i in items]


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


def _span_partitions(functions: Sequence[str]) -> Callable[[int], list[str]]:
    """A day's span partitions of `functions`, every shard: what `_newest` reads for them."""
    return lambda day: [span_partition(f, day, s) for f in functions for s in range(SHARDS)]


def _take(entries: Iterator[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in entries:
        if len(out) >= limit:
            break
        out.append(entry)
    return out


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
