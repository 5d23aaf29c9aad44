"""The SQLite store's log stream states and pending lines (see `streamstate`), each in its own table.

Kept apart from sqlite.py (which only calls in here). Both tables are keyed by stream and
position, so a redelivered batch is a no-op, and the states' key serves "the state just before /
after this position" as one range step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.streamstate import Position, StreamState

TABLES = """
CREATE TABLE IF NOT EXISTS log_streams (
    log_group TEXT NOT NULL, log_stream TEXT NOT NULL, time_ns INTEGER NOT NULL, event_id TEXT NOT NULL,
    request_id TEXT, PRIMARY KEY (log_group, log_stream, time_ns, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_pending (
    log_group TEXT NOT NULL, log_stream TEXT NOT NULL, time_ns INTEGER NOT NULL, event_id TEXT NOT NULL,
    function TEXT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL, trace_id TEXT, span_id TEXT,
    PRIMARY KEY (log_group, log_stream, time_ns, event_id)
) WITHOUT ROWID
"""

_STATE = "SELECT log_group, log_stream, request_id, time_ns, event_id FROM log_streams " \
         "WHERE log_group = ? AND log_stream = ? AND "
_BEFORE = _STATE + "(time_ns, event_id) < (?, ?) ORDER BY time_ns DESC, event_id DESC LIMIT 1"
_AFTER = _STATE + "(time_ns, event_id) > (?, ?) ORDER BY time_ns, event_id LIMIT 1"
_PENDING = ("SELECT function, time_ns, event_id, message, level, log_stream, trace_id, span_id FROM log_pending "
            "WHERE log_group = ? AND log_stream = ? AND (time_ns, event_id) > (?, ?)")


def create(conn: sqlite3.Connection) -> None:
    for statement in TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


def write_state(conn: sqlite3.Connection, state: StreamState) -> None:
    conn.execute("INSERT OR IGNORE INTO log_streams VALUES (?, ?, ?, ?, ?)",
                 (state.log_group, state.log_stream, state.time_ns, state.event_id, state.request_id))


def state(conn: sqlite3.Connection, log_group: str, log_stream: str, position: Position,
          after: bool) -> StreamState | None:
    row = conn.execute(_AFTER if after else _BEFORE, (log_group, log_stream, *position)).fetchone()
    return StreamState(*row) if row else None


def write_pending(conn: sqlite3.Connection, log_group: str, lines: Sequence[LogLine]) -> None:
    conn.executemany("INSERT OR IGNORE INTO log_pending VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(log_group, x.log_stream, x.time_ns, x.event_id, x.function, x.level, x.message, x.trace_id,
                       x.span_id) for x in lines])


def pending(conn: sqlite3.Connection, log_group: str, log_stream: str, after: Position,
            until: Position | None) -> list[LogLine]:
    sql, args = _PENDING, [log_group, log_stream, *after]
    if until is not None:
        sql, args = sql + " AND (time_ns, event_id) < (?, ?)", [*args, *until]
    return [LogLine(function, "", time_ns, event_id, message, level, stream, trace_id, span_id)
            for function, time_ns, event_id, message, level, stream, trace_id, span_id in conn.execute(sql, args)]


def delete_older_than(conn: sqlite3.Connection, cutoff_ns: int) -> int:
    removed = conn.execute("DELETE FROM log_streams WHERE time_ns < ?", (cutoff_ns,)).rowcount
    return removed + conn.execute("DELETE FROM log_pending WHERE time_ns < ?", (cutoff_ns,)).rowcount
