"""The store contract: every backend (SQLite, DynamoDB on moto's server) must pass the same tests.

Times are recent (the DynamoDB backend lists by day buckets looking back from now), and
every test builds its data with `Spans`, so the expectations read as the interface states them.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from hoptrace_collector.store import (
    DlqMessage,
    InvocationRecord,
    SpanRecord,
    Store,
    TraceFilter,
    WriteResult,
)

MS = 1_000_000
NOW = (time.time_ns() // (60 * 10**9) - 30) * 60 * 10**9  # a whole minute, half an hour ago


def tid(n: int) -> str:
    return f"{0x6759e988 + n:08x}{n:024x}"


def sid(n: int) -> str:
    return f"{n + 1:016x}"


def span(trace: int, n: int, *, parent: int | None = None, start_ms: float = 0, dur_ms: float = 10,
         function: str = "orders", service: str | None = None, status: str = "ok", **kw: Any) -> SpanRecord:
    start = NOW + int(start_ms * MS)
    return SpanRecord(trace_id=tid(trace), span_id=sid(n), parent_id=None if parent is None else sid(parent),
                      name=kw.pop("name", f"op-{n}"), kind=kw.pop("kind", "server" if parent is None else "client"),
                      start_ns=start, end_ns=start + int(dur_ms * MS), status=status, service=service or function,
                      function=function, resource=kw.pop("resource", {"service.name": service or function,
                                                                      "faas.name": function}), **kw)


def invocation(trace: int, n: int, request_id: str, **kw: Any) -> SpanRecord:
    return span(trace, n, request_id=request_id, kind=kw.pop("kind", "server"), **kw)


# -- write, idempotency, pending -----------------------------------------------------------------------

def test_write_and_get_trace_in_start_order(any_store: Store) -> None:
    # GIVEN a trace written out of order, with rich attributes, events, links and resource
    root = span(1, 0, dur_ms=50, attributes={"http.route": "/orders/{id}", "n": 3, "ratio": 0.5, "ok": True,
                                             "tags": ["a", "b"], "text": "naïve ☃"},
                events=[{"name": "exception", "time": NOW + 5 * MS, "attributes": {"exception.type": "E"}}],
                links=[{"trace_id": tid(9), "span_id": sid(9), "attributes": {"messaging.message.id": "m"}}],
                cold_start=True, trigger="apigateway", request_id="r-1")
    child = span(1, 1, parent=0, start_ms=5)
    grandchild = span(1, 2, parent=1, start_ms=7, status="error", status_message="boom")
    result = any_store.write([grandchild, root, child])
    # THEN it comes back whole, by start time
    assert result == WriteResult(3, 0)
    assert any_store.get_trace(tid(1)) == [root, child, grandchild]
    assert any_store.get_trace(tid(2)) == []


def test_rewriting_the_same_records_changes_nothing(any_store: Store) -> None:
    spans = [span(1, 0), span(1, 1, parent=0)]
    inv = InvocationRecord("r-1", "orders", NOW, duration_ms=3.0)
    dlq = DlqMessage("q-dlq", "m-1", NOW, receive_count=2)
    assert any_store.write(spans, [inv], [dlq]) == WriteResult(2, 0, 1, 1)
    assert any_store.write(spans, [inv], [dlq]) == WriteResult(0, 2, 0, 0)
    changed = dataclasses.replace(spans[1], status="error")
    assert any_store.write([changed]) == WriteResult(1, 0)
    assert any_store.list_traces(TraceFilter())[0].span_count == 2
    assert any_store.list_traces(TraceFilter())[0].error_count == 1


def test_pending_span_never_replaces_a_final_one(any_store: Store) -> None:
    final = invocation(1, 0, "r-1", dur_ms=3000, status="error")
    pending = dataclasses.replace(final, end_ns=final.start_ns + 2900 * MS, status="unset", pending=True)
    # a pending span first, then the final one: replaced
    assert any_store.write([pending]).spans_written == 1
    assert any_store.get_trace(tid(1))[0].pending
    assert any_store.write([final]) == WriteResult(1, 0)
    # the pending one again (redelivery): ignored
    assert any_store.write([pending]) == WriteResult(0, 1)
    assert any_store.get_trace(tid(1)) == [final]
    # the same within one batch, in either order
    other = invocation(2, 0, "r-2", status="error")
    late = dataclasses.replace(other, pending=True, status="unset")
    assert any_store.write([other, late]) == WriteResult(1, 1)
    assert any_store.get_trace(tid(2)) == [other]
    summary = {t.trace_id: t for t in any_store.list_traces(TraceFilter())}
    assert summary[tid(1)].error_count == 1 and summary[tid(1)].span_count == 1


def test_platform_failure_outranks_the_layer(any_store: Store) -> None:
    layer = invocation(1, 0, "r-1")
    platform = dataclasses.replace(layer, status="error", status_message="Task timed out", source="platform")
    any_store.write([platform])
    assert any_store.write([layer]) == WriteResult(0, 1)
    assert any_store.get_trace(tid(1))[0].source == "platform"


# -- listing traces --------------------------------------------------------------------------------------

@pytest.fixture
def shop(any_store: Store) -> Store:
    """Four traces across services, one minute apart (trace 4 newest)."""
    any_store.write([
        # 1: api -> payments, cold start, 120 ms
        invocation(1, 0, "r-1", function="api", dur_ms=120, cold_start=True, name="GET /orders"),
        span(1, 1, parent=0, start_ms=10, function="api", kind="producer", name="publish"),
        invocation(1, 2, "r-2", parent=1, start_ms=20, function="payments", kind="consumer", name="process pay"),
        # 2: api only, error
        invocation(2, 0, "r-3", start_ms=60_000, function="api", status="error", name="POST /orders",
                   attributes={"order.id": "A-77"}),
        # 3: payments only, 5 ms
        invocation(3, 0, "r-4", start_ms=120_000, function="payments", dur_ms=5, kind="consumer",
                   name="process pay"),
        # 4: api, 30 ms, warm
        invocation(4, 0, "r-5", start_ms=180_000, function="api", dur_ms=30, name="GET /orders"),
    ])
    return any_store


def ids(summaries: list) -> list[int]:
    return [int(s.trace_id[8:], 16) for s in summaries]


def test_list_traces_newest_first_with_summaries(shop: Store) -> None:
    traces = shop.list_traces(TraceFilter())
    assert ids(traces) == [4, 3, 2, 1]
    first = traces[-1]
    assert (first.root_service, first.root_name, first.services, first.span_count, first.error_count,
            first.cold_starts) == ("api", "GET /orders", ("api", "payments"), 3, 0, 1)
    assert first.start_ns == NOW and first.duration_ns == 120 * MS


@pytest.mark.parametrize(("flt", "expected"), [
    (TraceFilter(service="payments"), [3, 1]),
    (TraceFilter(function="api"), [4, 2, 1]),
    (TraceFilter(service="api", function="payments"), [1]),
    (TraceFilter(status="error"), [2]),
    (TraceFilter(status="ok"), [4, 3, 1]),
    (TraceFilter(cold_start=True), [1]),
    (TraceFilter(cold_start=False), [4, 3, 2]),
    (TraceFilter(min_duration_ms=25), [4, 1]),
    (TraceFilter(since_ns=NOW + 60_000 * MS), [4, 3, 2]),
    (TraceFilter(until_ns=NOW + 60_000 * MS), [2, 1]),
    (TraceFilter(since_ns=NOW + 1, until_ns=NOW + 150_000 * MS, service="payments"), [3]),
    (TraceFilter(trace_id=tid(3)), [3]),
    (TraceFilter(request_id="r-2"), [1]),
    (TraceFilter(text="a-77"), [2]),
    (TraceFilter(text="process pay"), [3, 1]),
    (TraceFilter(function="api", limit=2), [4, 2]),
    (TraceFilter(service="nobody"), []),
])
def test_list_traces_filters(shop: Store, flt: TraceFilter, expected: list[int]) -> None:
    assert ids(shop.list_traces(flt)) == expected


def test_trace_start_moves_when_an_upstream_span_arrives_late(shop: Store) -> None:
    # GIVEN trace 3 (payments) / WHEN its upstream api span, started earlier, arrives later
    shop.write([span(3, 9, start_ms=30_000, dur_ms=100_000, function="api", name="upstream")])
    # THEN its start, root and services follow, and it now sorts before trace 2
    listed = shop.list_traces(TraceFilter(service="api"))
    assert ids(listed) == [4, 2, 3, 1]
    moved = shop.list_traces(TraceFilter(trace_id=tid(3)))[0]
    assert (moved.start_ns, moved.root_name, moved.services) == (NOW + 30_000 * MS, "upstream",
                                                                  ("api", "payments"))
    assert ids(shop.list_traces(TraceFilter(service="payments"))) == [3, 1]


def test_a_trace_continued_from_an_untraced_caller_is_named_after_the_request_not_the_init(any_store: Store) -> None:
    # GIVEN a request whose caller's span was never stored, served by a cold start whose init began earlier
    any_store.write([
        span(7, 1, parent=99, kind="server", name="POST /orders", start_ms=500),
        span(7, 2, parent=1, kind="internal", name="init orders", start_ms=0, dur_ms=400),
    ])
    # THEN the trace is named after the span that received the request
    assert any_store.list_traces(TraceFilter(trace_id=tid(7)))[0].root_name == "POST /orders"


# -- spans, invocations, DLQ -----------------------------------------------------------------------------

def test_spans_cold_starts_and_errors(shop: Store) -> None:
    assert [s.span_id for s in shop.spans(function="api")] == [sid(0), sid(0), sid(1), sid(0)]
    assert [(s.trace_id, s.cold_start) for s in shop.spans(cold_starts_only=True)] == [(tid(1), True)]
    assert [s.trace_id for s in shop.spans(errors_only=True)] == [tid(2)]
    assert [s.trace_id for s in shop.spans(function="payments", since_ns=NOW + 1)] == [tid(3), tid(1)]
    assert [s.trace_id for s in shop.spans(until_ns=NOW + 60_000 * MS, limit=2)] == [tid(2), tid(1)]
    assert shop.spans(function="api", errors_only=True, cold_starts_only=True) == []


def test_invocations_merge_timeout_with_report(any_store: Store) -> None:
    timeout = InvocationRecord("r-1", "orders", NOW + 3000 * MS, outcome="timeout",
                               message="Task timed out after 3.00 seconds", log_group="/aws/lambda/orders")
    report = InvocationRecord("r-1", "orders", NOW + 3001 * MS, duration_ms=3000.0, billed_ms=3000.0,
                              memory_mb=128, max_memory_mb=60, trace_id=tid(1))
    assert any_store.write(invocations=[timeout]).invocations_written == 1
    assert any_store.write(invocations=[report]).invocations_written == 1
    [merged] = any_store.invocations()
    assert (merged.outcome, merged.message, merged.duration_ms, merged.memory_mb, merged.trace_id,
            merged.log_group, merged.time_ns) == ("timeout", timeout.message, 3000.0, 128, tid(1),
                                                  "/aws/lambda/orders", report.time_ns)
    assert any_store.write(invocations=[report, timeout]).invocations_written == 0


def test_invocations_filters(any_store: Store) -> None:
    records = [InvocationRecord(f"r-{i}", "api" if i % 2 else "worker", NOW + i * MS,
                                outcome=("ok", "crash", "oom", "timeout")[i % 4], init_ms=100.0 if i == 0 else None)
               for i in range(8)]
    any_store.write(invocations=records)
    assert [r.request_id for r in any_store.invocations()] == [f"r-{i}" for i in range(7, -1, -1)]
    assert [r.request_id for r in any_store.invocations(function="api", limit=2)] == ["r-7", "r-5"]
    assert {r.request_id for r in any_store.invocations(outcomes=["timeout", "oom"])} == {"r-2", "r-3", "r-6",
                                                                                           "r-7"}
    assert [r.request_id for r in any_store.invocations(since_ns=NOW + 3 * MS, until_ns=NOW + 4 * MS)] == [
        "r-4", "r-3"]
    assert any_store.invocations()[-1].init_ms == 100.0


def test_dlq_messages_merge(any_store: Store) -> None:
    first = DlqMessage("orders-dlq", "m-1", NOW + 5 * MS, receive_count=1, body_preview="{}",
                       source_queue="orders")
    later = dataclasses.replace(first, first_seen_ns=NOW + 9 * MS, receive_count=4, trace_id=tid(1),
                                error="card declined")
    any_store.write(dlq=[first, DlqMessage("other-dlq", "m-2", NOW + 7 * MS)])
    assert any_store.write(dlq=[later]).dlq_written == 1
    stored = any_store.dlq_messages(queue="orders-dlq")
    # the first sighting's receive count stays: later ones include the watcher's own peeks
    assert stored == [dataclasses.replace(later, first_seen_ns=first.first_seen_ns, receive_count=1)]
    assert [m.message_id for m in any_store.dlq_messages()] == ["m-2", "m-1"]
    assert any_store.write(dlq=[first]).dlq_written == 0


# -- stats, functions, retention ------------------------------------------------------------------------

def test_function_stats_per_bucket(any_store: Store) -> None:
    # GIVEN 10 invocations of api in the first minute (1..10 ms, one error, one cold) and 2 in the next
    spans = [invocation(i, 0, f"r-{i}", function="api", start_ms=i * 1000, dur_ms=i + 1,
                        status="error" if i == 3 else "ok", cold_start=i == 0) for i in range(10)]
    spans += [invocation(10 + i, 0, f"r-x{i}", function="api", start_ms=60_000 + i, dur_ms=100) for i in range(2)]
    spans += [span(0, 5, parent=0, function="api", dur_ms=999)]  # a client span: not an invocation
    spans += [invocation(20, 0, "r-w", function="worker", kind="consumer", dur_ms=7)]
    any_store.write(spans)
    stats = any_store.function_stats(since_ns=NOW, until_ns=NOW + 120_000 * MS, bucket_s=60)
    by_key = {(s.function, (s.bucket_start_ns - NOW) // (60_000 * MS)): s for s in stats}
    first = by_key[("api", 0)]
    assert (first.invocations, first.errors, first.cold_starts) == (10, 1, 1)
    assert (first.p50_ms, first.p95_ms, first.p99_ms) == pytest.approx((5.5, 9.55, 9.91))
    assert by_key[("api", 1)].invocations == 2 and by_key[("worker", 0)].p50_ms == pytest.approx(7)
    assert [s.function for s in any_store.function_stats(since_ns=NOW, until_ns=NOW + 10**12,
                                                          function="worker")] == ["worker"]


def test_functions(shop: Store) -> None:
    assert shop.functions() == ["api", "payments"]


def test_retention_removes_what_started_before_the_cutoff(shop: Store) -> None:
    shop.write(invocations=[InvocationRecord("r-old", "api", NOW), InvocationRecord("r-new", "api", NOW + 10**12)],
               dlq=[DlqMessage("q", "m-old", NOW), DlqMessage("q", "m-new", NOW + 10**12)])
    # WHEN everything before trace 2's start is removed (trace 1's three spans, one invocation, one message)
    removed = shop.delete_older_than(NOW + 60_000 * MS)
    # THEN only newer records remain
    assert removed == 5
    assert ids(shop.list_traces(TraceFilter())) == [4, 3, 2]
    assert shop.get_trace(tid(1)) == []
    assert [r.request_id for r in shop.invocations()] == ["r-new"]
    assert [m.message_id for m in shop.dlq_messages()] == ["m-new"]
    assert ids(shop.list_traces(TraceFilter(service="payments"))) == [3]


def test_retention_keeps_the_younger_part_of_a_trace(any_store: Store) -> None:
    any_store.write([span(1, 0, dur_ms=100_000, function="api"), span(1, 1, parent=0, start_ms=50_000,
                                                                       function="worker", status="error")])
    assert any_store.delete_older_than(NOW + 10_000 * MS) == 1
    [summary] = any_store.list_traces(TraceFilter())
    assert (summary.span_count, summary.error_count, summary.services, summary.start_ns) == (
        1, 1, ("worker",), NOW + 50_000 * MS)
    assert any_store.functions() == ["worker"]
