"""The SQLite store's link-key table (see `links`): written with the spans, looked up by key."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from hoptrace_collector.store.links import LinkKey

TABLE = """
CREATE TABLE IF NOT EXISTS link_keys (
    key TEXT NOT NULL, role TEXT NOT NULL, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, start_ns INTEGER NOT NULL,
    PRIMARY KEY (key, role, trace_id, span_id)
) WITHOUT ROWID;
"""
_CHUNK = 500


def create(conn: sqlite3.Connection) -> None:
    conn.execute(TABLE)


def write(conn: sqlite3.Connection, rows: Sequence[LinkKey]) -> None:
    if rows:
        conn.executemany("INSERT OR IGNORE INTO link_keys VALUES (?, ?, ?, ?, ?)",
                         [(r.key, r.role, r.trace_id, r.span_id, r.start_ns) for r in rows])


def rows(conn: sqlite3.Connection, keys: Sequence[str]) -> list[LinkKey]:
    found: list[LinkKey] = []
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start:start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        found.extend(LinkKey(*row) for row in conn.execute(
            f"SELECT key, role, trace_id, span_id, start_ns FROM link_keys WHERE key IN ({marks})", chunk))
    return found


def delete_older_than(conn: sqlite3.Connection, cutoff_ns: int) -> int:
    return conn.execute("DELETE FROM link_keys WHERE start_ns < ?", (cutoff_ns,)).rowcount
