"""The embedded store: one SQLite file in WAL mode, one writer and any number of readers.

WAL lets the dashboard read while the collector writes (readers see the last committed
batch, never a half-written one); `busy_timeout` makes a second writer wait instead of
failing. Each `write` is one `BEGIN IMMEDIATE` transaction: the write lock is taken before
the existing rows are read, so the merge decisions (rules.py) cannot race another writer,
and a batch is stored entirely or not at all.

URL: `sqlite:////abs/path/spans.db` (four slashes: absolute), `sqlite:///relative.db`, or a
plain filesystem path. Query options: `busy_timeout_ms` (default 10000).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hoptrace_collector import jsonlib
from hoptrace_collector.store import links, links_sqlite, rules, sqlite_logs, sqlite_rollups, sqlite_streams
from hoptrace_collector.store.base import StoreError, UnstorableError
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
from hoptrace_collector.store.sqlite_schema import (
    DLQ_COLUMNS,
    INSERT_TRACE_KEY,
    INVOCATION_COLUMNS,
    SCHEMA_VERSION,
    SPAN_COLUMNS,
    TABLES,
    UPSERT_TRACE,
    upsert,
)
from hoptrace_collector.store.sqlite_upserts import UPSERT_DLQ, UPSERT_INVOCATION
from hoptrace_collector.store.streamstate import Position, StreamState

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
_dumps = jsonlib.dumps
_loads = jsonlib.loads
_LOOKUP_CHUNK = 400  # (trace_id, span_id) pairs per lookup: 800 bound parameters
_SPAN_SELECT = ", ".join(SPAN_COLUMNS)
_SUMMARY_COLUMNS = ("t.trace_id, t.start_ns, t.end_ns, t.root_service, t.root_name, t.span_count, t.error_count, "
                    "t.cold_starts")
#: Traces a text search examines at most, newest first: a term no span holds costs a read of every span it looks
#: at (LIKE has no index), so this bounds the worst case (about 0.3 s); the DynamoDB store looks at 2,000.
TEXT_SCAN_TRACES = 10_000
_DEATHS = "outcome IN ('crash', 'oom', 'timeout')"  # rules.PLATFORM_FAILURES, as sqlite_schema indexes it
_UPSERT_SPAN = upsert("spans", SPAN_COLUMNS, ("trace_id", "span_id"))
_INSERT_NEW_SPAN = (f"INSERT INTO spans ({_SPAN_SELECT}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))}) "
                    "ON CONFLICT (trace_id, span_id) DO NOTHING")


def path_from_url(url: str) -> Path:
    """`sqlite:////abs.db` → /abs.db, `sqlite:///rel.db` → rel.db, anything without a scheme is a path."""
    if "://" not in url:
        if not url.strip():
            raise StoreError("empty store URL: use sqlite:////abs/path/spans.db or a file path")
        return Path(url)
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise StoreError(f"not a sqlite URL: {url!r}")
    if parts.netloc:
        raise StoreError(f"sqlite URL {url!r} has a host part {parts.netloc!r}: use sqlite:///relative.db or "
                         "sqlite:////absolute/path.db (three slashes, then the path)")
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path:
        raise StoreError(f"sqlite URL {url!r} names no file: use sqlite:////abs/path/spans.db")
    return Path(path)


class SqliteStore:
    """`Store` over one SQLite file; safe to share between threads (calls are serialised)."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 10_000, url: str | None = None) -> None:
        self.path = Path(path)
        self.url = url or f"sqlite:///{self.path}"
        self._lock = threading.RLock()
        self._resource_ids: dict[str, int] = {}
        self._resource_texts: dict[int, str] = {}
        self._resources: dict[int, dict[str, Any]] = {}  # decoded, by id: a resource row never changes
        try:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            # Checkpoint every ~40 MB of WAL instead of 4 MB: the same page rewritten by many batches
            # is copied into the database once, and the fsyncs of a checkpoint are paid less often.
            self._conn.execute("PRAGMA wal_autocheckpoint = 10000")
            mode = self._wal()
            if mode.lower() != "wal" and str(self.path) != ":memory:":
                raise StoreError(f"sqlite store {self.path}: the filesystem does not support WAL (got {mode!r})")
            # NORMAL is durable across application crashes in WAL mode; only a power loss can drop the last batch.
            self._conn.executescript("PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; "
                                     "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; "
                                     "PRAGMA analysis_limit = 400;")
            self._create_schema()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the sqlite store at {self.path}: {exc}") from exc

    def _wal(self) -> str:
        """Switch to WAL once per file; a second process opening a new file at the same moment waits."""
        mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        deadline = time.monotonic() + 10
        while mode.lower() != "wal":
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        return str(mode)

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        query = parse_qs(urlsplit(url).query) if "://" in url else {}
        try:
            timeout = int(query.get("busy_timeout_ms", ["10000"])[0])
        except ValueError as exc:
            raise StoreError(f"busy_timeout_ms in {url!r} must be an integer number of milliseconds") from exc
        return cls(path_from_url(url.split("?", 1)[0]), timeout, url=url)

    def _create_schema(self) -> None:
        with self._lock:
            try:  # executescript commits any open transaction first, so the script carries its own
                self._conn.executescript("BEGIN IMMEDIATE;" + TABLES + links_sqlite.TABLE + "COMMIT;")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        with self._transaction():
            sqlite_logs.create(self._conn)
            sqlite_rollups.create(self._conn)
            sqlite_streams.create(self._conn)
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema version {row[0]}, this collector reads {SCHEMA_VERSION}; "
                                 "point HOPTRACE_STORE at a new file")

    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    # -- writing -------------------------------------------------------------------------------------
    def write(self, spans: Sequence[SpanRecord] = (), invocations: Sequence[InvocationRecord] = (),
              dlq: Sequence[DlqMessage] = ()) -> WriteResult:
        try:
            with self._transaction():
                written, unchanged = self._write_spans(spans)
                links_sqlite.write(self._conn, links.link_keys(spans))
                invocations_written = self._upsert_rows(invocations, ("function", "request_id"), INVOCATION_COLUMNS,
                                                        UPSERT_INVOCATION, rules.merge_invocation)
                dlq_written = self._upsert_rows(dlq, ("queue", "message_id"), DLQ_COLUMNS, UPSERT_DLQ, rules.merge_dlq)
        except (UnicodeEncodeError, OverflowError, sqlite3.DataError) as exc:  # the records, not the store
            raise UnstorableError(f"sqlite store {self.path}: the batch holds a record SQLite cannot store "
                                  f"({type(exc).__name__}: {exc})") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: the batch was not stored ({exc})") from exc
        return WriteResult(written, unchanged, invocations_written, dlq_written)

    def write_logs(self, lines: Sequence[LogLine]) -> int:
        try:
            with self._transaction():
                return sqlite_logs.write(self._conn, lines)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: the log lines were not stored ({exc})") from exc

    def write_stream_state(self, state: StreamState) -> None:
        self._stream_write(sqlite_streams.write_state, state)

    def write_pending_lines(self, log_group: str, lines: Sequence[LogLine]) -> None:
        self._stream_write(sqlite_streams.write_pending, log_group, lines)

    def _stream_write(self, write: Callable[..., None], *args: Any) -> None:
        try:
            with self._transaction():
                write(self._conn, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: the log stream's state was not stored ({exc})") from exc

    def stream_state(self, log_group: str, log_stream: str, position: Position, *,
                     after: bool = False) -> StreamState | None:
        return self._stream_read(sqlite_streams.state, log_group, log_stream, position, after)

    def pending_lines(self, log_group: str, log_stream: str, after: Position,
                      until: Position | None) -> list[LogLine]:
        return self._stream_read(sqlite_streams.pending, log_group, log_stream, after, until)

    def _stream_read(self, read: Callable[..., Any], *args: Any) -> Any:
        try:
            with self._lock:
                return read(self._conn, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: query failed ({exc})") from exc

    def _write_spans(self, spans: Sequence[SpanRecord]) -> tuple[int, int]:
        """New spans (the common case) cost one INSERT each and nothing read back: the batch is inserted
        with `ON CONFLICT DO NOTHING` inside a savepoint, and when every row went in, all were new. Only
        when some already existed (redelivery, a pending span finished, a platform failure) is the
        savepoint undone and the batch merged against exactly the stored rows of its keys."""
        if not spans:
            return 0, 0
        # First as if each span were new and named once in the batch (the common case), so no winner is
        # chosen (`rules.winners`): a span named twice leaves a row out just as a stored one does, and the
        # batch is then merged, winners first.
        rows = self._span_rows(spans, map(rules.span_rank, spans))
        conn = self._conn
        conn.execute("SAVEPOINT new_spans")
        before = conn.total_changes
        conn.executemany(_INSERT_NEW_SPAN, rows)
        if conn.total_changes - before == len(rows):
            conn.execute("RELEASE new_spans")
            deltas: dict[str, rules.TraceDelta] = {}
            for span in spans:
                delta = deltas.get(span.trace_id)
                if delta is None:
                    delta = deltas[span.trace_id] = rules.TraceDelta.of(span)
                delta.add(span)
            self._apply_deltas(deltas)
            minutes = sqlite_rollups.Delta()
            for row in rows:
                if row[21]:  # an invocation span (rules.is_invocation_span)
                    minutes.add(row[5], row[6], row[10], row[7] == "error", row[12])
            minutes.write(conn)
            return len(rows), 0
        conn.execute("ROLLBACK TO new_spans")
        conn.execute("RELEASE new_spans")
        chosen = rules.winners(spans)
        rows = self._span_rows([span for _rank, span in chosen.values()], [rank for rank, _span in chosen.values()])
        return self._merge_spans(chosen, rows, len(spans))

    def _span_rows(self, spans: Sequence[SpanRecord], ranks: Iterable[int]) -> list[tuple[Any, ...]]:
        """The `spans` rows (`SPAN_COLUMNS`) of the spans, each of its rank; each distinct resource is looked up
        once."""
        resources = {id(span.resource): span.resource for span in spans}
        ids = {key: self._resource_id(resource) for key, resource in resources.items()}
        receiving = rules.INVOCATION_KINDS  # the last column is rules.is_invocation_span, spelled out
        return [(s.trace_id, s.span_id, s.parent_id, s.name, s.kind, s.start_ns, s.end_ns, s.status,
                 s.status_message, s.service, s.function, s.request_id, int(s.cold_start), s.trigger,
                 _dumps(s.attributes) if s.attributes else "{}", _dumps(s.events) if s.events else "[]",
                 _dumps(s.links) if s.links else "[]", ids[id(s.resource)], s.source, int(s.pending), rank,
                 int(s.request_id is not None and s.kind in receiving))
                for s, rank in zip(spans, ranks, strict=True)]

    def _merge_spans(self, chosen: dict[tuple[str, str], tuple[int, SpanRecord]], rows: list[tuple[Any, ...]],
                     total: int) -> tuple[int, int]:
        existing = self._existing_spans(chosen)
        changed: list[tuple[Any, ...]] = []
        deltas: dict[str, rules.TraceDelta] = {}
        minutes = sqlite_rollups.Delta()
        for (key, (rank, span)), row in zip(chosen.items(), rows, strict=True):
            old = existing.get(key)
            if old is not None and (old == row or rank < old[20]):
                continue
            changed.append(row)
            if old is not None and old[21]:
                minutes.add(old[5], old[6], old[10], old[7] == "error", old[12], sign=-1)
            if row[21]:
                minutes.add(row[5], row[6], row[10], row[7] == "error", row[12])
            delta = deltas.get(span.trace_id)
            if delta is None:
                delta = deltas[span.trace_id] = rules.TraceDelta.of(span)
            if old is None:
                delta.add(span)
            else:
                delta.add(span, old_error=old[7] == "error", old_cold=bool(old[12]))
        if changed:
            self._conn.executemany(_UPSERT_SPAN, changed)
            self._apply_deltas(deltas)
            minutes.write(self._conn)
        return len(changed), total - len(changed)

    def _apply_deltas(self, deltas: dict[str, rules.TraceDelta]) -> None:
        conn = self._conn
        conn.executemany(UPSERT_TRACE, [
            (trace_id, d.start_ns, d.end_ns, d.root_rank, d.root_start, d.root_service, d.root_name,
             d.span_count, d.error_count, d.cold_starts) for trace_id, d in deltas.items()])
        conn.executemany(INSERT_TRACE_KEY, [(key, trace_id) for trace_id, d in deltas.items()
                                            for key in d.listing_keys()])
        functions = {function for d in deltas.values() for function in d.functions}
        conn.executemany("INSERT OR IGNORE INTO functions (name) VALUES (?)", [(f,) for f in functions])

    def _existing_spans(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[Any, ...]]:
        """Stored rows of exactly these keys, one primary-key probe each: never the rest of their traces
        (reading whole traces made ingest slow down as traces grew)."""
        sql = f"SELECT {_SPAN_SELECT} FROM spans WHERE trace_id = ? AND span_id = ?"
        found = {}
        for key in keys:
            row = self._conn.execute(sql, key).fetchone()
            if row is not None:
                found[key] = row
        return found

    def _resource_id(self, resource: dict[str, Any]) -> int:
        text = _ENCODER.encode(dict(sorted(resource.items()))) if resource else "{}"
        resource_id = self._resource_ids.get(text)
        if resource_id is None:
            self._conn.execute("INSERT OR IGNORE INTO resources (json) VALUES (?)", (text,))
            resource_id = self._conn.execute("SELECT id FROM resources WHERE json = ?", (text,)).fetchone()[0]
            self._resource_ids[text] = resource_id
            self._resource_texts[resource_id] = text
        return resource_id

    def _upsert_rows(self, records: Sequence[Any], key: tuple[str, str], columns: tuple[str, ...], sql: str,
                     merge: Any) -> int:
        """Invocations and DLQ messages: one upsert each that merges in SQL (sqlite_upserts); nothing read back.
        A batch that names one key twice (a timeout line and its REPORT) is folded by the shared rule first."""
        if not records:
            return 0
        folded: dict[tuple[Any, ...], Any] = {}
        for record in records:
            record_key = (getattr(record, key[0]), getattr(record, key[1]))
            previous = folded.get(record_key)
            folded[record_key] = record if previous is None else merge(previous, record)
        before = self._conn.total_changes
        self._conn.executemany(sql, map(attrgetter(*columns), folded.values()))
        return self._conn.total_changes - before

    # -- reading ---------------------------------------------------------------------------------------
    def invocation_logs(self, keys: Sequence[InvocationKey]) -> list[LogLine]:
        try:
            with self._lock:
                return sqlite_logs.read(self._conn, keys)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: query failed ({exc})") from exc

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        rows = self._query(f"SELECT {_SPAN_SELECT} FROM spans WHERE trace_id = ? ORDER BY start_ns, span_id",
                           (trace_id,))
        return [self._span(row) for row in rows]

    def list_traces(self, flt: TraceFilter) -> list[TraceSummary]:
        sql, params = _trace_query(flt)
        return self._summaries(self._query(sql, params))

    def slowest_traces(self, *, since_ns: int, until_ns: int, n: int = 10) -> list[TraceSummary]:
        """The n longest traces that started in [since, until], longest first (see `base.slowest_traces`):
        one range scan of the trace summaries kept on write (`traces_by_start`), never the spans."""
        return self._summaries(self._query(
            f"SELECT {_SUMMARY_COLUMNS} FROM traces t INDEXED BY traces_by_start WHERE t.start_ns >= ? "
            "AND t.start_ns <= ? ORDER BY t.end_ns - t.start_ns DESC, t.trace_id LIMIT ?", (since_ns, until_ns, n)))

    def _summaries(self, rows: list[tuple[Any, ...]]) -> list[TraceSummary]:
        """Summary rows (`_SUMMARY_COLUMNS`) with each trace's services."""
        services: dict[str, list[str]] = {}
        if rows:
            marks = ",".join("?" * len(rows))
            for trace_id, key in self._query(
                    f"SELECT trace_id, key FROM trace_keys WHERE trace_id IN ({marks}) AND key >= 's:' AND key < 's;'",
                    [r[0] for r in rows]):
                services.setdefault(trace_id, []).append(key[2:])
        return [TraceSummary(trace_id=r[0], start_ns=r[1], end_ns=r[2], root_service=r[3], root_name=r[4],
                             services=tuple(sorted(services.get(r[0], ()))), span_count=r[5], error_count=r[6],
                             cold_starts=r[7]) for r in rows]

    def spans(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
              errors_only: bool = False, cold_starts_only: bool = False, limit: int = 1000) -> list[SpanRecord]:
        clauses = _Clauses()
        clauses.add(function is not None, "function = ?", function)
        clauses.add(since_ns is not None, "start_ns >= ?", since_ns)
        clauses.add(until_ns is not None, "start_ns <= ?", until_ns)
        clauses.add(errors_only, "status = 'error'")
        clauses.add(cold_starts_only, "cold_start = 1")
        rows = self._query(f"SELECT {_SPAN_SELECT} FROM spans{clauses.where()} ORDER BY start_ns DESC LIMIT ?",
                           [*clauses.params, limit])
        return [self._span(row) for row in rows]

    def invocations(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
                    outcomes: Sequence[str] | None = None, limit: int = 1000) -> list[InvocationRecord]:
        clauses = _Clauses()
        clauses.add(function is not None, "function = ?", function)
        clauses.add(since_ns is not None, "time_ns >= ?", since_ns)
        clauses.add(until_ns is not None, "time_ns <= ?", until_ns)
        if outcomes is not None:
            # Deaths only: the term the partial `invocations_deaths*` indexes are declared with, spelled the same,
            # so SQLite reads those few rows instead of every invocation of the range.
            clauses.add(set(outcomes) <= rules.PLATFORM_FAILURES, _DEATHS)
            clauses.add(True, f"outcome IN ({','.join('?' * len(outcomes))})", *outcomes)
        rows = self._query(f"SELECT {', '.join(INVOCATION_COLUMNS)} FROM invocations{clauses.where()} "
                           "ORDER BY time_ns DESC LIMIT ?", [*clauses.params, limit])
        return [InvocationRecord(*row) for row in rows]

    def dlq_messages(self, *, queue: str | None = None, limit: int = 1000) -> list[DlqMessage]:
        clauses = _Clauses()
        clauses.add(queue is not None, "queue = ?", queue)
        rows = self._query(f"SELECT {', '.join(DLQ_COLUMNS)} FROM dlq{clauses.where()} "
                           "ORDER BY first_seen_ns DESC LIMIT ?", [*clauses.params, limit])
        return [DlqMessage(*row) for row in rows]

    def function_stats(self, *, since_ns: int, until_ns: int, bucket_s: int = 60,
                       function: str | None = None) -> list[FunctionStats]:
        bucket_ns = int(bucket_s * 1_000_000_000)
        if bucket_ns <= 0:
            raise StoreError(f"bucket_s must be positive, got {bucket_s}")
        clauses = _Clauses()
        clauses.add(True, "invocation = 1 AND start_ns >= ? AND start_ns < ?", since_ns, until_ns)
        clauses.add(function is not None, "function = ?", function)
        # Only the columns of the covering index travel to Python; durations are needed for percentiles.
        rows = self._query(f"SELECT function, start_ns / ? * ?, end_ns - start_ns, status = 'error', cold_start "
                           f"FROM spans INDEXED BY spans_invocations{clauses.where()} ORDER BY 1, 2, 3",
                           [bucket_ns, bucket_ns, *clauses.params])
        return list(rules.stats_from_rows(rows))

    def function_totals(self, *, since_ns: int, until_ns: int, function: str | None = None) -> list[FunctionStats]:
        """Per function over the whole range, from the per-minute rollup (sqlite_rollups): exact counts,
        percentiles within 2 %; what `function_stats` with one bucket gives, without reading every span."""
        try:
            with self._lock:
                return sqlite_rollups.totals(self._conn, since_ns, until_ns, function)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: query failed ({exc})") from exc

    def function_series(self, *, since_ns: int, until_ns: int, bucket_s: int,
                        function: str | None = None) -> list[FunctionStats]:
        """`function_stats` per bucket of whole minutes, from the per-minute rollup (see `function_totals`)."""
        try:
            with self._lock:
                return sqlite_rollups.totals(self._conn, since_ns, until_ns, function, int(bucket_s * 1_000_000_000))
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: query failed ({exc})") from exc

    def cold_vs_warm(self, *, since_ns: int, until_ns: int,
                     function: str | None = None) -> list[tuple[str, str, int, float, float]]:
        """(function, "cold" | "warm", invocations, p50 ms, p95 ms), from the per-minute rollup (see
        `function_totals`): every invocation of the range, not a sample of the newest."""
        try:
            with self._lock:
                return sqlite_rollups.cold_vs_warm(self._conn, since_ns, until_ns, function)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: query failed ({exc})") from exc

    def functions(self) -> list[str]:
        return [row[0] for row in self._query("SELECT name FROM functions ORDER BY name", ())]

    def link_rows(self, keys: Sequence[str]) -> list[links.LinkKey]:
        """Both sides of each producer -> consumer link key (see `links`)."""
        with self._lock:
            return links_sqlite.rows(self._conn, keys)

    def delete_older_than(self, cutoff_ns: int) -> int:
        try:
            with self._transaction():
                return self._delete_older_than(cutoff_ns)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: retention failed ({exc})") from exc

    def _delete_older_than(self, cutoff_ns: int) -> int:
        conn = self._conn
        # A trace has a span older than the cutoff exactly when its summary starts before it.
        touched = [row[0] for row in conn.execute("SELECT trace_id FROM traces WHERE start_ns < ?", (cutoff_ns,))]
        removed = conn.execute("DELETE FROM spans WHERE start_ns < ?", (cutoff_ns,)).rowcount
        removed += conn.execute("DELETE FROM invocations WHERE time_ns < ?", (cutoff_ns,)).rowcount
        removed += conn.execute("DELETE FROM dlq WHERE first_seen_ns < ?", (cutoff_ns,)).rowcount
        removed += links_sqlite.delete_older_than(conn, cutoff_ns)
        cut = cutoff_ns // sqlite_rollups.MINUTE_NS * sqlite_rollups.MINUTE_NS
        conn.execute("DELETE FROM function_minutes WHERE minute_ns < ?", (cut,))
        sqlite_rollups.rebuild(conn, cut, cut + sqlite_rollups.MINUTE_NS)  # the minute the cutoff falls in
        removed += sqlite_logs.delete_older_than(conn, cutoff_ns)
        removed += sqlite_streams.delete_older_than(conn, cutoff_ns)
        for start in range(0, len(touched), _LOOKUP_CHUNK):
            chunk = touched[start:start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM traces WHERE trace_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM trace_keys WHERE trace_id IN ({marks})", chunk)
            survivors: dict[str, rules.TraceDelta] = {}
            for row in conn.execute(f"SELECT {_SPAN_SELECT} FROM spans WHERE trace_id IN ({marks})", chunk):
                span = self._span(row, decode_json=False)
                if span.trace_id in survivors:
                    survivors[span.trace_id].add(span)
                else:
                    survivors[span.trace_id] = rules.TraceDelta.of(span)
                    survivors[span.trace_id].add(span)
            self._apply_deltas(survivors)
        conn.execute("DELETE FROM functions WHERE NOT EXISTS "
                     "(SELECT 1 FROM spans WHERE spans.function = functions.name)")
        return removed

    def close(self) -> None:
        with self._lock:
            try:  # keeps the planner's statistics fresh (bounded by analysis_limit), as SQLite advises
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self._conn.close()

    # -- helpers ---------------------------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite store {self.path}: query failed ({exc})") from exc

    def _resource(self, resource_id: int) -> dict[str, Any]:
        decoded = self._resources.get(resource_id)
        if decoded is None:
            text = self._resource_texts.get(resource_id)
            if text is None:
                with self._lock:
                    row = self._conn.execute("SELECT json FROM resources WHERE id = ?", (resource_id,)).fetchone()
                text = self._resource_texts[resource_id] = row[0] if row else "{}"
            decoded = self._resources[resource_id] = _loads(text)
        return dict(decoded)  # a copy: one function instance's resource is shared by thousands of spans

    def _span(self, row: tuple[Any, ...], decode_json: bool = True) -> SpanRecord:
        return SpanRecord(
            trace_id=row[0], span_id=row[1], parent_id=row[2], name=row[3], kind=row[4], start_ns=row[5],
            end_ns=row[6], status=row[7], status_message=row[8], service=row[9], function=row[10],
            request_id=row[11], cold_start=bool(row[12]), trigger=row[13],
            attributes=_loads(row[14]) if decode_json else {}, events=_loads(row[15]) if decode_json else [],
            links=_loads(row[16]) if decode_json else [], resource=self._resource(row[17]) if decode_json else {},
            source=row[18], pending=bool(row[19]))


class _Transaction:
    """`BEGIN IMMEDIATE` … `COMMIT`, rolled back (and caches forgotten) on any exception."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._lock.acquire()
        try:
            self._store._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._store._lock.release()
            raise

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        store = self._store
        try:
            if exc_type is None:
                store._conn.execute("COMMIT")
            else:
                if store._conn.in_transaction:
                    store._conn.execute("ROLLBACK")
                # ids handed out inside the rolled-back transaction no longer exist
                store._resource_ids.clear()
                store._resource_texts.clear()
                store._resources.clear()
        finally:
            store._lock.release()


class _Clauses:
    """WHERE clauses with their parameters, added only when a filter is set."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: bool, sql: str, *params: Any) -> None:
        if condition:
            self.sql.append(sql)
            self.params.extend(params)

    def where(self) -> str:
        return (" WHERE " + " AND ".join(self.sql)) if self.sql else ""


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_horizon(time_column: str, flt: TraceFilter) -> tuple[Any, ...]:
    """A text search looks at the newest `TEXT_SCAN_TRACES` traces of the range at most: the clause (and its
    parameters) bounding the trace start from below, found in the start-time index (no span is read)."""
    inner = _Clauses()
    inner.add(flt.since_ns is not None, "h.start_ns >= ?", flt.since_ns)
    inner.add(flt.until_ns is not None, "h.start_ns <= ?", flt.until_ns)
    return (f"{time_column} >= coalesce((SELECT h.start_ns FROM traces h INDEXED BY traces_by_start{inner.where()} "
            "ORDER BY h.start_ns DESC LIMIT 1 OFFSET ?), -1)", *inner.params, TEXT_SCAN_TRACES - 1)


def _trace_query(flt: TraceFilter) -> tuple[str, list[Any]]:
    """The SELECT for list_traces: driven by the (key, start) index when a service or function is given."""
    clauses = _Clauses()
    key = f"s:{flt.service}" if flt.service is not None else (
        f"f:{flt.function}" if flt.function is not None else None)
    time_column = "t.start_ns"
    source = "traces t"
    if key is not None:
        source = "trace_keys k JOIN traces t ON t.trace_id = k.trace_id"
        time_column = "k.start_ns"
        clauses.add(True, "k.key = ?", key)
    clauses.add(flt.service is not None and flt.function is not None,
                "EXISTS (SELECT 1 FROM trace_keys k2 WHERE k2.trace_id = t.trace_id AND k2.key = ?)",
                f"f:{flt.function}")
    clauses.add(flt.trace_id is not None, "t.trace_id = ?", flt.trace_id)
    clauses.add(flt.request_id is not None,
                "t.trace_id IN (SELECT trace_id FROM spans WHERE request_id = ?)", flt.request_id)
    clauses.add(flt.since_ns is not None, f"{time_column} >= ?", flt.since_ns)
    clauses.add(flt.until_ns is not None, f"{time_column} <= ?", flt.until_ns)
    clauses.add(flt.status == "error", "t.error_count > 0")
    clauses.add(flt.status == "ok", "t.error_count = 0")
    clauses.add(flt.cold_start is True, "t.cold_starts > 0")
    clauses.add(flt.cold_start is False, "t.cold_starts = 0")
    if flt.min_duration_ms is not None:
        clauses.add(True, "t.end_ns - t.start_ns >= ?", int(flt.min_duration_ms * 1_000_000))
    if flt.text:
        pattern = _like(flt.text)
        # The LIKE on the whole JSON text is a cheap pre-filter; json_each checks values, not keys.
        # Characters JSON escapes would defeat the pre-filter, so it is skipped for them.
        prefilter = "s.attributes LIKE ? ESCAPE '\\' AND " if not any(c in flt.text for c in '"\\') else ""
        text_params = [pattern, pattern, pattern] if prefilter else [pattern, pattern]
        since = "AND s.start_ns >= ?" if flt.since_ns is not None else ""
        # Correlated EXISTS, not `IN (SELECT …)`: the traces are walked newest first and each one's spans
        # probed by primary key, so the scan stops at the limit instead of reading every span of the range.
        clauses.add(True, "EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND (s.name LIKE ? "
                    f"ESCAPE '\\' OR ({prefilter}EXISTS (SELECT 1 FROM json_each(s.attributes) j "
                    f"WHERE j.value LIKE ? ESCAPE '\\'))) {since})",
                    *text_params, *([flt.since_ns] if since else []))
        if flt.trace_id is None and flt.request_id is None:
            clauses.add(True, *_text_horizon(time_column, flt))
    sql = f"SELECT {_SUMMARY_COLUMNS} FROM {source}{clauses.where()} ORDER BY {time_column} DESC LIMIT ?"
    return sql, [*clauses.params, flt.limit]
