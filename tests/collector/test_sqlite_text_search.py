"""The SQLite store's text search walks the traces newest first and stops at the limit, and looks through
the newest `TEXT_SCAN_TRACES` traces of the range at most: on a 1M-span store a term no span holds would
otherwise read every span of 24 hours (seconds), a common one stopped after the first few hundred traces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hoptrace_collector.store import SpanRecord, TraceFilter, open_store, sqlite

T0 = 1_795_593_398_000_000_000
S = 1_000_000_000


def traces(n: int, word_every: int) -> list[SpanRecord]:
    """n two-span traces a second apart; every `word_every`-th trace's client span carries "PaymentFailed"."""
    spans = []
    for i in range(n):
        start = T0 + i * S
        spans.append(SpanRecord(f"{i + 1:032x}", f"{i + 1:016x}", None, "invoke", "server", start, start + 5_000_000,
                                "ok", service="api", function="api", request_id=f"r-{i}"))
        detail = {"event.type": "PaymentFailed"} if i % word_every == 0 else {"event.type": "OrderPlaced"}
        spans.append(SpanRecord(f"{i + 1:032x}", f"{i + 1:016x}"[::-1], f"{i + 1:016x}", "SNS.Publish", "producer",
                                start + 1, start + 2_000_000, "ok", service="api", function="api", attributes=detail))
    return spans


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'spans.db'}")
    store.write(traces(300, 7))
    yield store
    store.close()


def test_the_newest_matching_traces_in_order(store) -> None:  # type: ignore[no-untyped-def]
    found = store.list_traces(TraceFilter(text="PaymentFailed", since_ns=T0, until_ns=T0 + 300 * S, limit=5))
    assert [int(s.trace_id, 16) - 1 for s in found] == [294, 287, 280, 273, 266]
    # the same as reading every span and filtering in Python
    every = [int(s.trace_id, 16) - 1 for s in store.list_traces(TraceFilter(limit=1000))
             if any("PaymentFailed" in str(sp.attributes.values()) for sp in store.get_trace(s.trace_id))]
    assert every[:5] == [294, 287, 280, 273, 266] and len(every) == 43
    assert len(store.list_traces(TraceFilter(text="PaymentFailed", limit=1000))) == 43
    assert len(store.list_traces(TraceFilter(text="Failed", service="api", limit=1000))) == 43


def test_a_text_search_looks_through_the_newest_traces_of_the_range_only(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sqlite, "TEXT_SCAN_TRACES", 20)
    until = T0 + 299 * S
    found = store.list_traces(TraceFilter(text="PaymentFailed", since_ns=T0, until_ns=until, limit=100))
    assert [int(s.trace_id, 16) - 1 for s in found] == [294, 287, 280]  # traces 280..299
    # narrowing the range searches further back
    found = store.list_traces(TraceFilter(text="PaymentFailed", since_ns=T0, until_ns=T0 + 10 * S, limit=100))
    assert [int(s.trace_id, 16) - 1 for s in found] == [7, 0]
    # a range holding fewer traces than the bound is searched whole; an id lookup is never bounded
    assert len(store.list_traces(TraceFilter(text="PaymentFailed", since_ns=T0 + 285 * S, limit=100))) == 2
    assert store.list_traces(TraceFilter(text="PaymentFailed", trace_id=f"{1:032x}"))[0].trace_id == f"{1:032x}"
    assert store.list_traces(TraceFilter(text="PaymentFailed", request_id="r-7"))[0].trace_id == f"{8:032x}"


def test_the_plan_probes_each_traces_spans_by_key_never_scans_them(store) -> None:  # type: ignore[no-untyped-def]
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.list_traces(TraceFilter(text="PaymentFailed", since_ns=T0, until_ns=T0 + 300 * S, limit=5))
    store._conn.set_trace_callback(None)
    sql = next(s for s in statements if "json_each" in s)
    plan = " | ".join(row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert re.search(r"SEARCH s USING (INDEX sqlite_autoindex_spans_1|PRIMARY KEY) \(trace_id=\?\)", plan), plan
    assert "SCAN s" not in plan and "SCAN spans" not in plan and "TEMP B-TREE" not in plan, plan
