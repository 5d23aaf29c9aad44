"""The SQLite store's log lines: one row per line in their own table, written in the caller's transaction.

Kept apart from sqlite.py (which only calls in here) so the span tables can change without
touching the logs. The primary key (function, request id, event id) makes a redelivered line a
no-op and serves `read` (every line of one invocation is one range of the key).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from hoptrace_collector.store.loglines import InvocationKey, LogLine, in_order

TABLE = """
CREATE TABLE IF NOT EXISTS log_lines (
    function TEXT NOT NULL, request_id TEXT NOT NULL, event_id TEXT NOT NULL, time_ns INTEGER NOT NULL,
    level TEXT NOT NULL, message TEXT NOT NULL, log_stream TEXT NOT NULL, trace_id TEXT, span_id TEXT,
    PRIMARY KEY (function, request_id, event_id)
) WITHOUT ROWID;
-- retention
CREATE INDEX IF NOT EXISTS log_lines_by_time ON log_lines (time_ns);
"""

_INSERT = ("INSERT OR IGNORE INTO log_lines (function, request_id, event_id, time_ns, level, message, log_stream, "
           "trace_id, span_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_SELECT = ("SELECT function, request_id, time_ns, event_id, message, level, log_stream, trace_id, span_id "
           "FROM log_lines WHERE function = ? AND request_id = ?")


def create(conn: sqlite3.Connection) -> None:
    """The table, if missing (inside the caller's open transaction)."""
    for statement in TABLE.split(";"):
        if statement.strip():
            conn.execute(statement)


def write(conn: sqlite3.Connection, lines: Iterable[LogLine]) -> int:
    """Insert lines not yet stored; returns how many were new."""
    before = conn.total_changes
    conn.executemany(_INSERT, [(line.function, line.request_id, line.event_id, line.time_ns, line.level,
                                line.message, line.log_stream, line.trace_id, line.span_id) for line in lines])
    return conn.total_changes - before


def read(conn: sqlite3.Connection, keys: Sequence[InvocationKey]) -> list[LogLine]:
    lines: list[LogLine] = []
    for key in dict.fromkeys(keys):
        lines.extend(LogLine(*row) for row in conn.execute(_SELECT, key))
    return in_order(lines)


def delete_older_than(conn: sqlite3.Connection, cutoff_ns: int) -> int:
    return conn.execute("DELETE FROM log_lines WHERE time_ns < ?", (cutoff_ns,)).rowcount
