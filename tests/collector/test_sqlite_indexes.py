"""Every index of the SQLite store earns its insert cost: some query the dashboard, the alerts or retention
issue is answered through it, shown by SQLite's own `EXPLAIN QUERY PLAN` of the statements the store runs.

The statements are captured as the store executes them (with their parameters), for each call the
dashboard and the alert evaluator make; an index no plan names would be dropped (as `spans_by_time` was).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from hoptrace_collector.store import DlqMessage, InvocationRecord, SpanRecord, TraceFilter, open_store

T0 = 1_795_593_398_000_000_000
MINE = ("spans", "traces", "trace_keys", "invocations", "dlq", "resources", "functions")


def fill(path: Path) -> None:
    store = open_store(f"sqlite:///{path}")
    spans, invocations = [], []
    for n in range(400):
        function = f"fn-{n % 7}"
        start = T0 + n * 1_000_000_000
        spans.append(SpanRecord(f"{n + 1:032x}", f"{n + 1:016x}", None, "invoke", "server", start, start + 5_000_000,
                                "error" if n % 9 == 0 else "ok", service=function, function=function,
                                request_id=f"r-{n}", cold_start=n % 11 == 0, resource={"service.name": function}))
        spans.append(SpanRecord(f"{n + 1:032x}", f"{n + 1:016x}"[::-1], f"{n + 1:016x}", "DynamoDB.GetItem", "client",
                                start + 1, start + 2_000_000, "ok", service=function, function=function))
        invocations.append(InvocationRecord(f"r-{n}", function, start, "timeout" if n % 13 == 0 else "ok"))
    store.write(spans, invocations, [DlqMessage("dlq", f"m-{n}", T0 + n) for n in range(20)])
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")


def test_every_index_is_used_by_a_dashboard_or_alert_query(tmp_path: Path) -> None:
    path = tmp_path / "spans.db"
    fill(path)
    store = open_store(f"sqlite:///{path}")
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    since, until = T0, T0 + 400 * 1_000_000_000
    # what the dashboard's pages and the alert evaluator ask (dashboard/hoptrace_dashboard/queries.py, alerts)
    store.get_trace(f"{5:032x}")
    for flt in (TraceFilter(limit=100), TraceFilter(service="fn-1", limit=100), TraceFilter(function="fn-2"),
                TraceFilter(status="error", since_ns=since, until_ns=until), TraceFilter(request_id="r-7"),
                TraceFilter(function="fn-3", cold_start=True, since_ns=since, until_ns=until)):
        store.list_traces(flt)
    store.spans(function="fn-1", since_ns=since, until_ns=until, limit=100)
    for function in ("fn-1", None):
        store.spans(function=function, since_ns=since, until_ns=until, errors_only=True, limit=100)
        store.spans(function=function, since_ns=since, until_ns=until, cold_starts_only=True, limit=100)
        store.invocations(function=function, since_ns=since, until_ns=until, outcomes=["timeout", "crash", "oom"])
        store.invocations(function=function, since_ns=since, until_ns=until, limit=1)  # has platform lines?
    store.function_stats(since_ns=since, until_ns=until, bucket_s=60)
    store.dlq_messages(limit=50)
    store.functions()
    store.delete_older_than(T0 + 3 * 1_000_000_000)  # retention
    store._conn.set_trace_callback(None)  # type: ignore[attr-defined]

    used: dict[str, str] = {}
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "DELETE", "WITH")):
            continue
        for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql):  # type: ignore[attr-defined]
            for name in re.findall(r"USING (?:COVERING )?INDEX (\w+)", row[3]):
                used.setdefault(name, sql)
    with sqlite3.connect(path) as conn:
        indexes = {name for name, table in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = "
                                                        "'index' AND sql IS NOT NULL") if table in MINE}
    store.close()
    assert indexes, "the schema has indexes"
    assert indexes - used.keys() == set(), f"indexes no query uses: {sorted(indexes - used.keys())}"


def test_whole_range_questions_read_rollups_and_summaries_not_spans(tmp_path: Path) -> None:
    """The Overview's function table reads the per-minute rollup (spans only for a partial first or last
    minute, through the invocation spans' index); the slowest traces read the trace summaries by start time."""
    path = tmp_path / "spans.db"
    fill(path)
    store = open_store(f"sqlite:///{path}")
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    store.function_totals(since_ns=T0 + 7, until_ns=T0 + 400 * 1_000_000_000)  # type: ignore[attr-defined]
    store.slowest_traces(since_ns=T0, until_ns=T0 + 400 * 1_000_000_000, n=10)  # type: ignore[attr-defined]
    store.function_series(since_ns=T0 + 7, until_ns=T0 + 400 * 1_000_000_000, bucket_s=300)  # type: ignore[attr-defined]
    store._conn.set_trace_callback(None)  # type: ignore[attr-defined]
    plans = {sql: " | ".join(row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql))  # type: ignore[attr-defined]
             for sql in statements if sql.lstrip().upper().startswith("SELECT")}
    store.close()
    joined = "\n".join(plans.values())
    assert re.search(r"SEARCH function_minutes USING PRIMARY KEY \(minute_ns>\? AND minute_ns<\?\)", joined), joined
    assert re.search(r"SEARCH spans USING (COVERING )?INDEX spans_invocations \(start_ns>\? AND start_ns<\?\)", joined)
    assert re.search(r"SEARCH t USING INDEX traces_by_start", joined), joined
    assert not re.search(r"SCAN (spans|function_minutes|t\b|traces)", joined), joined
