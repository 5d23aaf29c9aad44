"""Rebuilding flows and answering the pages' questions, without Streamlit: pure functions over the fixture store."""

from __future__ import annotations

import dataclasses
import re

import pytest

from hoptrace_collector.store import SpanRecord, TraceFilter, open_store
from hoptrace_dashboard import display, flow, hops, queries, servicemap
from tests.dashboard.conftest import ShopStore
from tests.dashboard.shop import MS, Flow, Ids, order_flow, root


@pytest.fixture(scope="module")
def store(shop_store: ShopStore):  # type: ignore[no-untyped-def]
    opened = open_store(shop_store.url)
    yield opened
    opened.close()


def test_happy_flow_crosses_every_hop_in_order(shop_store: ShopStore) -> None:
    # GIVEN an order that went through API Gateway, SNS, SQS, HTTP and EventBridge, with two cold starts
    rebuilt = flow.build(shop_store.happy.spans)
    assert rebuilt is not None
    # THEN the hops, in time order, name each crossing and what it crossed
    assert [tuple(h) for h in rebuilt.hops[["from", "to", "hop", "via"]].itertuples(index=False)] == [
        ("(caller)", "orders", "API Gateway", "POST /orders"),
        ("orders", "inventory", "SNS → SQS", "inventory-queue"),
        ("orders", "payments", "SNS → SQS", "payments-queue"),
        ("inventory", "orders", "HTTP → API Gateway", "GET /orders/{id}"),
        ("payments", "orders", "EventBridge", "PaymentSucceeded from shop.payments"),
        ("payments", "invoices", "EventBridge", "PaymentSucceeded from shop.payments"),
        ("invoices", "notifications", "EventBridge", "InvoiceIssued from shop.invoices"),
    ]
    assert list(rebuilt.hops["wait_ms"].iloc[1:3]) == [20.0, 28.0]
    # AND the waterfall lists parents before children, the init segment under the invocation that paid it
    names = list(rebuilt.rows["name"])
    assert names[:4] == ["POST /orders", "init demo-orders-api", "DynamoDB.PutItem", "order-events send"]
    assert names.index("process payments-queue") < names.index("EventBridge.PutEvents")
    assert set(rebuilt.segments["segment"]) >= {"cold-start init", "waiting in queue", "orders", "payments"}
    # AND the two inits (orders-api at -180..0 ms, payments at -120..+60 ms) overlap: 240 ms of waiting, not 360
    assert rebuilt.cold_start_ms == pytest.approx(240.0)


def test_tree_order_survives_missing_parents_and_deep_chains() -> None:
    # GIVEN a chain deeper than Python's recursion limit whose first parent was never stored
    spans = order_flow(10**18, Flow(), Ids(1)).spans[:1]
    chain = [dataclasses.replace(spans[0], span_id=f"{i + 1:016x}", parent_id=f"{i:016x}", start_ns=10**18 + i)
             for i in range(1500)]
    ordered = flow.tree_order(chain)
    assert [depth for _, depth in ordered[:3]] == [0, 1, 2] and len(ordered) == 1500


def test_tree_order_lists_spans_whose_parents_form_a_cycle() -> None:
    # GIVEN a root, two spans naming each other as parent, and a span naming itself (garbled or colliding ids)
    first = order_flow(10**18, Flow(), Ids(1)).spans[0]

    def span(span_id: int, parent: int | None, start: int) -> SpanRecord:
        return dataclasses.replace(first, span_id=f"{span_id:016x}", parent_id=None if parent is None else
                                   f"{parent:016x}", start_ns=10**18 + start, end_ns=10**18 + start + 5)

    spans = [span(1, None, 0), span(3, 2, 3), span(2, 3, 2), span(4, 4, 4), span(5, 2, 5)]
    # WHEN the waterfall is ordered and the flow rebuilt
    ordered = flow.tree_order(spans)
    rebuilt = flow.build(spans)
    # THEN every span is listed once: each cycle starts its own subtree at its earliest span, children under it
    assert [(int(s.span_id, 16), depth) for s, depth in ordered] == [(1, 0), (2, 0), (3, 1), (5, 1), (4, 0)]
    assert rebuilt is not None and sorted(rebuilt.rows["span_id"]) == sorted(s.span_id for s in spans)


def test_errors_carry_exception_and_stack(shop_store: ShopStore) -> None:
    rebuilt = flow.build(shop_store.retried.spans)
    assert rebuilt is not None
    [(span, error_type, message, stack)] = rebuilt.errors
    assert span.function == "demo-notifications"
    assert (error_type, message) == ("notifications.app.TransientFailure", "SMTP relay unavailable")
    assert "Traceback" in stack


def test_batch_and_its_records_link_both_ways(shop_store: ShopStore) -> None:
    first, _second, batch = shop_store.batched
    batch_trace = root(batch).trace_id
    record_side = flow.build([s for s in batch.spans if s.trace_id == first.spans[0].trace_id] + first.spans)
    batch_side = flow.build([s for s in batch.spans if s.trace_id == batch_trace])
    assert record_side is not None and batch_side is not None
    assert list(record_side.links["trace_id"]) == [batch_trace]
    assert set(batch_side.links["trace_id"]) == {first.spans[0].trace_id, _second.spans[0].trace_id}


def test_unknown_trace_is_none() -> None:
    assert flow.build([]) is None


def test_slowest_traces_match_a_full_sort(store, shop_store: ShopStore) -> None:  # type: ignore[no-untyped-def]
    everything = store.list_traces(TraceFilter(limit=10_000))
    expected = [s.trace_id for s in sorted(everything, key=lambda s: s.duration_ns, reverse=True)[:5]]
    # WHEN the store may return only 8 traces per read, far fewer than it holds
    found = queries.slowest_traces(store, 0, 2**62, n=5, limit=8)
    assert list(found.frame["trace_id"]) == expected
    assert found.frame["duration_ms"].iloc[0] == pytest.approx(60_000.0)


def test_service_edges_follow_the_shop(store) -> None:  # type: ignore[no-untyped-def]
    edges = queries.service_edges(store, 0, 2**62).frame
    pairs = set(zip(edges["source"], edges["target"], strict=True))
    assert {("api:api.shop.local", "function:demo-orders-api"), ("function:demo-orders-api", "topic:order-events"),
            ("topic:order-events", "queue:payments-queue"), ("topic:order-events", "queue:inventory-queue"),
            ("queue:payments-queue", "function:demo-payments"), ("function:demo-payments", "bus:events"),
            ("bus:events", "function:demo-invoices"), ("function:demo-inventory", "api:api.shop.local"),
            ("function:demo-orders-api", "table:orders-table"),
            ("schedule:demo-reports-Daily", "function:demo-reports")} <= pairs
    poisoned = edges[(edges["source"] == "queue:payments-queue") & (edges["target"] == "function:demo-payments")]
    assert int(poisoned["errors"].iloc[0]) == 3  # the poison message's three receives


def test_cold_traces_measure_the_share_of_the_request(store, shop_store: ShopStore) -> None:  # type: ignore[no-untyped-def]
    paid = queries.cold_traces(store, 0, 2**62)
    happy = paid[paid["trace_id"] == root(shop_store.happy).trace_id].iloc[0]
    assert happy["init_ms"] == pytest.approx(240.0)
    assert happy["cold_functions"] == "demo-orders-api, demo-payments"
    assert happy["init_share"] == pytest.approx(240.0 / happy["duration_ms"])


def test_failures_grouped_retries_counted_and_deaths_listed(store, shop_store: ShopStore) -> None:  # type: ignore[no-untyped-def]
    failed = queries.failures(store, 0, 2**62)
    groups = failed.groups.frame
    assert set(groups["error"]) >= {"notifications.app.TransientFailure", "N of N records failed",
                                    "reported in batchItemFailures", "platform: timeout"}
    retries = failed.retries
    notify = retries[retries["function"] == "demo-notifications"].iloc[0]
    assert (notify["attempts"], notify["failed_attempts"], notify["outcome"]) == (2, 1, "succeeded")
    deaths = queries.platform_failures(store, 0, 2**62)
    assert sorted(deaths["outcome"]) == ["oom", "timeout"]
    dlq = queries.dlq(store)
    assert list(dlq["trace_id"]) == [root(shop_store.poison).trace_id]


def test_trace_list_finds_by_request_id_and_text(store, shop_store: ShopStore) -> None:  # type: ignore[no-untyped-def]
    request_id = root(shop_store.declined).request_id
    assert list(queries.trace_list(store, find=request_id)["trace_id"]) == [root(shop_store.declined).trace_id]
    assert list(queries.trace_list(store, find=root(shop_store.happy).trace_id.upper())["trace_id"]) == [
        root(shop_store.happy).trace_id]
    assert root(shop_store.declined).trace_id in set(queries.trace_list(store, text="PaymentFailed")["trace_id"])


def test_markdown_escaping_leaves_no_markup() -> None:
    hostile = "**bold** <img src=x onerror=alert(1)> [link](javascript:alert(1)) :red[x] $x$ `code`\nnext"
    escaped = display.md(hostile)
    assert "\n" not in escaped
    # every character that could start markup is escaped
    assert not re.search(r"(?<!\\)[*<>\[\]()`$:]", escaped)


def test_durations_have_units() -> None:
    assert [display.duration(v) for v in (0.25, 4.5, 45.0, 1234.0, 61_000.0, None)] == [
        "250 µs", "4.50 ms", "45 ms", "1.23 s", "1 min 1 s", display.MISSING]


def test_dot_quotes_names_from_the_traced_system() -> None:
    assert servicemap.quote('a"b\\c\nd') == '"a\\"b\\\\c d"'
    assert hops.last_part("arn:aws:sns:us-east-1:1:order-events") == "order-events"
    assert hops.last_part("https://sqs.local/123/payments", "/") == "payments"


def test_outbound_targets_name_what_was_called(shop_store: ShopStore) -> None:
    calls = {s.name: hops.outbound(s) for s in shop_store.happy.spans if s.kind in ("client", "producer")}
    assert calls["order-events send"] == hops.Node("topic", "order-events")
    assert calls["GET api.shop.local"] == hops.Node("api", "api.shop.local")
    assert calls["DynamoDB.PutItem"] == hops.Node("table", "orders-table")
    sqs = dataclasses.replace(shop_store.happy.spans[0], kind="client", attributes={
        "rpc.service": "SQS", "rpc.method": "SendMessage", "aws.queue_url": "https://sqs/1/q1"})
    assert hops.outbound(sqs) == hops.Node("queue", "q1")
    assert MS == 1_000_000
