"""The SQLite store's tables and indexes, each index named for the query that needs it.

`spans` holds every span once (primary key trace id + span id). `traces` and `trace_keys`
are summaries kept on write so that listing the newest traces of a service is a range scan
of one small index instead of a GROUP BY over millions of spans. Resources (identical for
every span of a function instance) are stored once in `resources`.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS resources (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);

CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, status TEXT NOT NULL, status_message TEXT NOT NULL,
    service TEXT NOT NULL, function TEXT NOT NULL, request_id TEXT, cold_start INTEGER NOT NULL, trigger TEXT,
    attributes TEXT NOT NULL, events TEXT NOT NULL, links TEXT NOT NULL, resource_id INTEGER NOT NULL,
    source TEXT NOT NULL, pending INTEGER NOT NULL,
    rank INTEGER NOT NULL,        -- rules.span_rank: which rewrite of the same ids wins
    invocation INTEGER NOT NULL,  -- rules.is_invocation_span: counted by function_stats
    PRIMARY KEY (trace_id, span_id)
);

CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
    root_rank INTEGER NOT NULL, root_start INTEGER NOT NULL, root_service TEXT NOT NULL, root_name TEXT NOT NULL,
    span_count INTEGER NOT NULL, error_count INTEGER NOT NULL, cold_starts INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per (trace, "s:<service>" | "f:<function>"), carrying the trace's start time.
CREATE TABLE IF NOT EXISTS trace_keys (
    trace_id TEXT NOT NULL, key TEXT NOT NULL, start_ns INTEGER NOT NULL, PRIMARY KEY (trace_id, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS functions (name TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS invocations (
    function TEXT NOT NULL, request_id TEXT NOT NULL, time_ns INTEGER NOT NULL, outcome TEXT NOT NULL,
    duration_ms REAL, billed_ms REAL, memory_mb INTEGER, max_memory_mb INTEGER, init_ms REAL,
    message TEXT NOT NULL, log_group TEXT NOT NULL, log_stream TEXT NOT NULL, trace_id TEXT,
    PRIMARY KEY (function, request_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS dlq (
    queue TEXT NOT NULL, message_id TEXT NOT NULL, first_seen_ns INTEGER NOT NULL, receive_count INTEGER NOT NULL,
    trace_id TEXT, parent_span_id TEXT, body_preview TEXT NOT NULL, source_queue TEXT, error TEXT NOT NULL,
    PRIMARY KEY (queue, message_id)
) WITHOUT ROWID;

-- spans(function=..., newest first): the service map, the services list, a function's invocations
CREATE INDEX IF NOT EXISTS spans_by_function_time ON spans (function, start_ns);
-- Every index costs each insert; one no dashboard query reads is dropped (retention scans instead: it is rare).
DROP INDEX IF EXISTS spans_by_time;
-- the failures and cold-start pages, per function and across all: small partial indexes
CREATE INDEX IF NOT EXISTS spans_errors ON spans (function, start_ns) WHERE status = 'error';
CREATE INDEX IF NOT EXISTS spans_cold_starts ON spans (function, start_ns) WHERE cold_start = 1;
CREATE INDEX IF NOT EXISTS spans_errors_by_time ON spans (start_ns) WHERE status = 'error';
CREATE INDEX IF NOT EXISTS spans_cold_starts_by_time ON spans (start_ns) WHERE cold_start = 1;
-- TraceFilter.request_id, and joining a platform failure to the span of its request
CREATE INDEX IF NOT EXISTS spans_by_request ON spans (request_id) WHERE request_id IS NOT NULL;
-- function_stats reads only this covering index
CREATE INDEX IF NOT EXISTS spans_invocations ON spans (start_ns, function, end_ns, status, cold_start)
    WHERE invocation = 1;

CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns);
CREATE INDEX IF NOT EXISTS trace_keys_by_key ON trace_keys (key, start_ns);
CREATE INDEX IF NOT EXISTS invocations_by_time ON invocations (time_ns);
CREATE INDEX IF NOT EXISTS invocations_by_function_time ON invocations (function, time_ns);
-- the platform's deaths of a range (failures page, alerts): small partial indexes, few rows die
CREATE INDEX IF NOT EXISTS invocations_deaths ON invocations (time_ns) WHERE outcome IN ('crash', 'oom', 'timeout');
CREATE INDEX IF NOT EXISTS invocations_deaths_by_function ON invocations (function, time_ns)
    WHERE outcome IN ('crash', 'oom', 'timeout');
CREATE INDEX IF NOT EXISTS dlq_by_time ON dlq (first_seen_ns);

-- A trace's start moves earlier when an upstream function's spans arrive after downstream ones.
CREATE TRIGGER IF NOT EXISTS trace_start_moved AFTER UPDATE OF start_ns ON traces
WHEN NEW.start_ns <> OLD.start_ns
BEGIN
    UPDATE trace_keys SET start_ns = NEW.start_ns WHERE trace_id = NEW.trace_id;
END;
"""

SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_id", "name", "kind", "start_ns", "end_ns", "status", "status_message",
    "service", "function", "request_id", "cold_start", "trigger", "attributes", "events", "links", "resource_id",
    "source", "pending", "rank", "invocation",
)

INVOCATION_COLUMNS = (  # dataclass field order, so rows construct records positionally
    "request_id", "function", "time_ns", "outcome", "duration_ms", "billed_ms", "memory_mb", "max_memory_mb",
    "init_ms", "message", "log_group", "log_stream", "trace_id",
)

DLQ_COLUMNS = (  # dataclass field order
    "queue", "message_id", "first_seen_ns", "receive_count", "trace_id", "parent_span_id", "body_preview",
    "source_queue", "error",
)


def upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """`INSERT ... ON CONFLICT(key) DO UPDATE` of every other column; the caller already decided it wins."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


UPSERT_TRACE = """
INSERT INTO traces (trace_id, start_ns, end_ns, root_rank, root_start, root_service, root_name,
                    span_count, error_count, cold_starts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (trace_id) DO UPDATE SET
    start_ns = min(start_ns, excluded.start_ns),
    end_ns = max(end_ns, excluded.end_ns),
    root_service = CASE WHEN (excluded.root_rank, excluded.root_start) < (root_rank, root_start)
                        THEN excluded.root_service ELSE root_service END,
    root_name = CASE WHEN (excluded.root_rank, excluded.root_start) < (root_rank, root_start)
                     THEN excluded.root_name ELSE root_name END,
    root_start = CASE WHEN (excluded.root_rank, excluded.root_start) < (root_rank, root_start)
                      THEN excluded.root_start ELSE root_start END,
    root_rank = CASE WHEN (excluded.root_rank, excluded.root_start) < (root_rank, root_start)
                     THEN excluded.root_rank ELSE root_rank END,
    span_count = span_count + excluded.span_count,
    error_count = error_count + excluded.error_count,
    cold_starts = cold_starts + excluded.cold_starts
"""

INSERT_TRACE_KEY = """
INSERT OR IGNORE INTO trace_keys (trace_id, key, start_ns) SELECT trace_id, ?, start_ns FROM traces WHERE trace_id = ?
"""
