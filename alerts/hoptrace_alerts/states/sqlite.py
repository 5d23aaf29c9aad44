"""Alert state in the span store's SQLite file: tables `alert_state`, `alert_transitions`, `alert_runs`.

The tables are created here (IF NOT EXISTS) on a connection of our own, so the collector's
schema and its version check stay untouched; WAL is already on for the file, and each
`apply` is one `BEGIN IMMEDIATE` transaction that checks every alert's version before it
writes, so a concurrent evaluator's move is never overwritten.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from hoptrace_alerts.incidents import AlertState, Transition
from hoptrace_alerts.states import Change, Run, encode_finding, transition_fields, transition_from
from hoptrace_collector.store import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_state (
    rule TEXT NOT NULL, subject TEXT NOT NULL, state TEXT NOT NULL, since_ns INTEGER NOT NULL,
    incident_ns INTEGER, resolved_notified INTEGER NOT NULL, version INTEGER NOT NULL, finding TEXT NOT NULL,
    PRIMARY KEY (rule, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_transitions (
    rule TEXT NOT NULL, subject TEXT NOT NULL, time_ns INTEGER NOT NULL, from_state TEXT NOT NULL,
    to_state TEXT NOT NULL, notify INTEGER NOT NULL, reason TEXT NOT NULL, incident_ns INTEGER,
    finding TEXT NOT NULL, delivery TEXT NOT NULL,
    PRIMARY KEY (rule, subject, time_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_transitions_by_time ON alert_transitions (time_ns);
CREATE TABLE IF NOT EXISTS alert_runs (
    id INTEGER PRIMARY KEY CHECK (id = 1), time_ns INTEGER NOT NULL, evaluated INTEGER NOT NULL,
    firing INTEGER NOT NULL, transitions INTEGER NOT NULL, duration_ms REAL NOT NULL, rules TEXT NOT NULL
);
"""
_TRANSITION_COLUMNS = ("rule", "subject", "time_ns", "from_state", "to_state", "notify", "reason", "incident_ns",
                       "finding", "delivery")
_STATE_COLUMNS = "rule, subject, state, since_ns, incident_ns, resolved_notified, version, finding"


class SqliteStateStore:
    """`create=False` (readers: the dashboard, `hoptrace alerts history`) never writes to the file: before the
    evaluator's first run there are no tables, and every read answers "nothing yet"."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 10_000, create: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if create:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
            self._ready = create or self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'alert_runs'").fetchone() is not None
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the alert tables in {self.path}: {exc}") from exc

    def states(self) -> dict[tuple[str, str], AlertState]:
        rows = self._query(f"SELECT {_STATE_COLUMNS} FROM alert_state", ())
        return {(r[0], r[1]): AlertState(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], json.loads(r[7]))
                for r in rows}

    def apply(self, changes: Sequence[Change]) -> list[Transition]:
        applied: list[Transition] = []
        marks = ",".join("?" * len(_TRANSITION_COLUMNS))
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for old, new, transition in changes:
                    row = self._conn.execute("SELECT version FROM alert_state WHERE rule = ? AND subject = ?",
                                             (old.rule, old.subject)).fetchone()
                    if (row[0] if row else 0) != old.version:
                        continue  # another evaluator moved this alert since we read it
                    stored = replace(new, version=old.version + 1)
                    self._conn.execute(
                        f"INSERT OR REPLACE INTO alert_state ({_STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (stored.rule, stored.subject, stored.state, stored.since_ns, stored.incident_ns,
                         int(stored.resolved_notified), stored.version, encode_finding(stored.finding)))
                    fields = transition_fields(transition)
                    inserted = self._conn.execute(
                        f"INSERT OR IGNORE INTO alert_transitions ({', '.join(_TRANSITION_COLUMNS)}) VALUES ({marks})",
                        [fields[c] for c in _TRANSITION_COLUMNS]).rowcount
                    if inserted:
                        applied.append(transition)
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"alert state in {self.path} was not stored: {exc}") from exc
        return applied

    def record_delivery(self, transition: Transition, delivery: dict[str, str]) -> None:
        self._execute("UPDATE alert_transitions SET delivery = ? WHERE rule = ? AND subject = ? AND time_ns = ?",
                      (json.dumps(delivery, sort_keys=True), *transition.key))

    def history(self, *, since_ns: int | None = None, until_ns: int | None = None, rule: str | None = None,
                subject: str | None = None, limit: int = 200) -> list[Transition]:
        clauses, values = [], []
        for column, op, value in (("time_ns", ">=", since_ns), ("time_ns", "<=", until_ns), ("rule", "=", rule),
                                  ("subject", "=", subject)):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                values.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._query(f"SELECT {', '.join(_TRANSITION_COLUMNS)} FROM alert_transitions{where} "
                           "ORDER BY time_ns DESC, rule DESC, subject DESC LIMIT ?", (*values, limit))
        return [transition_from(dict(zip(_TRANSITION_COLUMNS, r, strict=True))) for r in rows]

    def record_run(self, run: Run) -> None:
        self._execute("INSERT OR REPLACE INTO alert_runs VALUES (1, ?, ?, ?, ?, ?, ?)",
                      (run.time_ns, run.evaluated, run.firing, run.transitions, run.duration_ms, run.rules))

    def last_run(self) -> Run | None:
        rows = self._query("SELECT time_ns, evaluated, firing, transitions, duration_ms, rules FROM alert_runs", ())
        return Run(*rows[0]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _query(self, sql: str, values: Sequence) -> list[tuple]:
        if not self._ready:
            return []
        try:
            with self._lock:
                return self._conn.execute(sql, values).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"alert state in {self.path}: query failed ({exc})") from exc

    def _execute(self, sql: str, values: Sequence) -> None:
        self._query(sql, values)
