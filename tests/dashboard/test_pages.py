"""Every page through Streamlit's AppTest on the fixture store: filters change results, flows and the DLQ are right."""

from __future__ import annotations

import re
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hoptrace_collector.store import SpanRecord, open_store
from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN
from tests.dashboard.conftest import APP, ShopStore
from tests.dashboard.shop import root

PAGES = ["views/1_overview.py", "views/2_traces.py", "views/3_service_map.py", "views/4_cold_starts.py",
         "views/5_failures.py", "views/6_alerts.py"]


def open_page(page: str, query: dict[str, str] | None = None, zone: str = "Europe/Berlin") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.context = {"timezone": zone, "timezone_offset": -60}
    at.run()
    if page != PAGES[0]:
        at.switch_page(page)
    at.query_params.update(query or {})
    return at.run()


def table_with(at: AppTest, column: str) -> Any:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def widget(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def trace_ids_listed(at: AppTest) -> list[str]:
    return list(table_with(at, "root_name")["trace_id"])


def page_link_queries(at: AppTest) -> list[str]:
    return [link.proto.query_string for link in at.get("page_link")]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(dashboard_env: ShopStore, page: str) -> None:
    at = open_page(page)
    no_exception(at)
    assert not at.error
    assert at.title, "every page has a title"


def test_overview_counts_and_links_the_failed_and_slow_traces(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[0])
    no_exception(at)
    spans = dashboard_env
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Functions"] == "7"
    per_function = table_with(at, "p95_ms").set_index("function")
    assert per_function.loc["demo-payments", "errors"] == 3  # the poison message's three receives
    assert per_function.loc["demo-reports", "p99_ms"] == pytest.approx(60_000.0)
    links = page_link_queries(at)
    for failed in (spans.poison, spans.retried, spans.timeout):
        assert f"trace={root(failed).trace_id}" in links
    labels = [link.label for link in at.get("page_link")]
    assert any(label.startswith("1 min 0 s") and "reports" in label for label in labels)


def test_traces_filters_change_the_results(dashboard_env: ShopStore) -> None:
    shop = dashboard_env
    # GIVEN every trace of the last hour
    at = open_page(PAGES[1])
    everything = trace_ids_listed(at)
    assert len(everything) == 32
    # WHEN the status filter asks for failed traces
    widget(at.selectbox, "Status").select("error").run()
    failed = trace_ids_listed(at)
    # THEN only those with an error remain, and the URL says so (a pasted link shows the same list)
    assert set(failed) == {root(shop.poison).trace_id, root(shop.retried).trace_id, root(shop.timeout).trace_id}
    assert at.query_params["status"] == "error"
    # AND the other filters narrow it further, each kept in the URL
    widget(at.selectbox, "Function").select("demo-reports").run()
    assert trace_ids_listed(at) == [root(shop.timeout).trace_id]
    assert at.query_params["function"] == "demo-reports"

    at = open_page(PAGES[1], {"cold": "yes"})
    assert root(shop.happy).trace_id in trace_ids_listed(at) and len(trace_ids_listed(at)) < len(everything)
    at = open_page(PAGES[1], {"min_ms": "10000"})
    assert trace_ids_listed(at) == [root(shop.timeout).trace_id]
    at = open_page(PAGES[1])
    widget(at.text_input, "Text in span names or attributes").input("PaymentFailed").run()
    assert trace_ids_listed(at) == [root(shop.declined).trace_id]
    assert at.query_params["q"] == "PaymentFailed"
    at = open_page(PAGES[1], {"service": "reports"})
    assert trace_ids_listed(at) == [root(shop.timeout).trace_id]
    at = open_page(PAGES[1], {"find": root(shop.happy).request_id or ""})
    assert trace_ids_listed(at) == [root(shop.happy).trace_id]


def test_selected_trace_shows_its_flow_in_order(dashboard_env: ShopStore) -> None:
    happy = root(dashboard_env.happy)
    at = open_page(PAGES[1], {"trace": happy.trace_id})
    no_exception(at)
    hops = table_with(at, "hop")
    assert list(zip(hops["to"], hops["hop"], strict=True)) == [
        ("orders", "API Gateway"), ("inventory", "SNS → SQS"), ("payments", "SNS → SQS"),
        ("orders", "HTTP → API Gateway"), ("orders", "EventBridge"),
        ("invoices", "EventBridge"), ("notifications", "EventBridge")]
    spans = widget(at.selectbox, "Span").options
    names = [option.split(maxsplit=1)[1].lstrip("· ") for option in spans]
    assert names[:4] == ["POST /orders", "init demo-orders-api", "DynamoDB.PutItem", "order-events send"]
    assert len(names) == len(dashboard_env.happy.spans)
    assert {m.label: m.value for m in at.metric}["Cold-start init"] == "240 ms"
    # WHEN another span is chosen THEN its attributes are listed, and the URL names it
    target = next(s for s in dashboard_env.happy.spans if s.name == "order-events send")
    widget(at.selectbox, "Span").set_value(target.span_id).run()
    attributes = table_with(at, "attribute").set_index("attribute")["value"]
    assert attributes["rpc.method"] == "Publish"
    assert at.query_params["span"] == target.span_id


def test_failed_trace_shows_its_error_and_stack(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[1], {"trace": root(dashboard_env.retried).trace_id})
    no_exception(at)
    assert any("SMTP relay unavailable" in t.value for t in at.text)
    assert any("Traceback" in c.value for c in at.code)
    assert widget(at.selectbox, "Span").value == next(s.span_id for s in dashboard_env.retried.spans
                                                       if s.status == "error")


def test_batched_traces_link_to_each_other(dashboard_env: ShopStore) -> None:
    first, second, batch = dashboard_env.batched
    at = open_page(PAGES[1], {"trace": first.spans[0].trace_id})
    assert f"trace={root(batch).trace_id}" in page_link_queries(at)
    at = open_page(PAGES[1], {"trace": root(batch).trace_id})
    links = page_link_queries(at)
    assert f"trace={first.spans[0].trace_id}" in links and f"trace={second.spans[0].trace_id}" in links


def test_unknown_trace_says_so(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[1], {"trace": "0" * 31 + "1"})
    no_exception(at)
    assert any("No trace with this id" in w.value for w in at.warning), [w.value for w in at.warning]


def test_dlq_lists_the_poison_message_with_its_trace(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[4])
    no_exception(at)
    dlq = table_with(at, "receive_count")
    [message] = dlq.to_dict("records")
    assert message["queue"] == "payments-dlq" and message["receive_count"] == 3
    assert message["trace_id"] == root(dashboard_env.poison).trace_id
    assert message["open"].endswith(f"trace={message['trace_id']}")
    assert message["error"] == "reported in batchItemFailures"
    assert set(table_with(at, "max_memory_mb")["outcome"]) == {"timeout", "oom"}
    retries = table_with(at, "failed_attempts").set_index("function")
    assert retries.loc["demo-notifications", "outcome"] == "succeeded"


def test_failures_filter_by_function(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[4], {"function": "demo-notifications"})
    assert set(table_with(at, "example_message")["function"]) == {"demo-notifications"}
    assert table_with(at, "receive_count").shape[0] == 1  # DLQs are listed whatever the function


def test_cold_starts_page_names_who_paid(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[3])
    no_exception(at)
    paid = table_with(at, "init_share").set_index("trace_id")
    assert paid.loc[root(dashboard_env.happy).trace_id, "init_ms"] == pytest.approx(240.0)
    at = open_page(PAGES[3], {"function": "demo-payments"})
    assert set(table_with(at, "init_share")["cold_functions"]) == {"demo-orders-api, demo-payments"}


def test_service_map_draws_observed_edges_and_links_functions(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[2])
    no_exception(at)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"topic:order-events" -> "queue:payments-queue"' in dot
    assert "./traces?function=demo-payments" in dot
    assert "function=demo-payments" in page_link_queries(at)


def test_links_keep_the_time_range_and_zone(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[0], {"range": "6h", "tz": "utc"})
    no_exception(at)
    assert all("range=6h" in q and "tz=utc" in q for q in page_link_queries(at))
    assert any("UTC" in label for label in (link.label for link in at.get("page_link")))


def test_times_follow_the_browser_zone_and_the_utc_switch(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[1], {"trace": root(dashboard_env.happy).trace_id})
    assert {m.label: m.value for m in at.metric}["Started"].endswith(("CET", "CEST"))
    widget(at.toggle, "Show times in UTC").set_value(True).run()
    assert at.query_params["tz"] == "utc"
    assert {m.label: m.value for m in at.metric}["Started"].endswith("UTC")


def test_empty_store_explains_how_to_get_data(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    open_store(f"sqlite:///{tmp_path / 'empty.db'}").close()
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{tmp_path / 'empty.db'}")
    for page in PAGES:
        at = open_page(page)
        no_exception(at)
        assert any("hoptrace demo" in m.value for m in at.markdown)


def test_token_is_asked_on_every_page_before_anything_is_shown(dashboard_env: ShopStore,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_TOKEN, "s3cret-token")
    for page in PAGES[1:]:  # a page's own URL does not get around the prompt
        at = open_page(page, {"trace": root(dashboard_env.happy).trace_id})
        assert not at.dataframe and not at.metric and at.text_input[0].label == "Access token", page
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.dataframe and not at.metric
    widget(at.text_input, "Access token").input("wrong")
    at.button[0].click().run()
    assert at.error and not at.dataframe
    widget(at.text_input, "Access token").input("s3cret-token")
    at.button[0].click().run()
    no_exception(at)
    assert at.metric, "the overview is shown once the token is given"


def test_span_names_are_shown_as_text_not_markup(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                 shop_store: ShopStore) -> None:
    hostile = "**boom** <img src=x onerror=alert(1)> [click](javascript:alert(1))"
    spans = [s if s.parent_id else SpanRecord(**{**{f: getattr(s, f) for f in s.__dataclass_fields__},
                                                 "name": hostile, "status": "error"})
             for s in shop_store.happy.spans]
    store = open_store(f"sqlite:///{tmp_path / 'hostile.db'}")
    store.write(spans, shop_store.happy.invocations)
    store.close()
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{tmp_path / 'hostile.db'}")
    for page, query in ((PAGES[0], {}), (PAGES[1], {"trace": spans[0].trace_id})):
        at = open_page(page, query)
        no_exception(at)
        rendered = [e.value for e in at.markdown] + [link.label for link in at.get("page_link")] + [
            e.proto.label for e in at.expander]
        shown = [text for text in rendered if "boom" in text]
        assert shown, "the span name is shown"
        # THEN every character that would start markup is escaped, so Markdown shows it literally
        assert not any(re.search(r"(?<!\\)[*<>\[\]()]", text) for text in shown), shown


@pytest.mark.parametrize(("page", "query"), [(PAGES[1], "trace"), (PAGES[1], "function"), (PAGES[3], "range"),
                                             (PAGES[4], "function")])
def test_a_pasted_deep_link_survives_the_token_prompt(dashboard_env: ShopStore, monkeypatch: pytest.MonkeyPatch,
                                                      page: str, query: str) -> None:
    # GIVEN a dashboard with a token and a link pasted into a fresh browser session (any page, any query)
    monkeypatch.setenv(ENV_TOKEN, "s3cret-token")
    trace_id = root(dashboard_env.happy).trace_id
    value = {"trace": trace_id, "function": "demo-payments", "range": "6h"}[query]
    at = open_page(page, {query: value})
    assert at.text_input[0].label == "Access token"
    # WHEN the token is given
    widget(at.text_input, "Access token").input("s3cret-token")
    at.button[0].click().run()
    # THEN the linked page opens with its query, not the Overview
    no_exception(at)
    assert at.query_params[query] in (value, [value])
    expected = nav_title(page)
    assert any(expected in t.value for t in at.title), ([t.value for t in at.title], expected)
    if query == "trace":
        assert {m.label for m in at.metric} >= {"Started"}


def nav_title(page: str) -> str:
    from hoptrace_dashboard.nav import PAGES as SPECS

    return next(spec.title for spec in SPECS.values() if spec.path == page).split(" ")[0]


def test_a_batch_of_many_traces_lists_the_first_few_and_folds_the_rest(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a payments batch that carried twelve orders, each from its own trace
    import time

    from tests.dashboard.shop import MS, Flow, Ids, Records, mixed_batch, order_flow, publish_span

    ids, now, everything = Ids(7), time.time_ns() - 5 * 60 * 10**9, Records()
    orders = [order_flow(now + i * 10 * MS, Flow(order=f"o-{i}", batched=True), ids) for i in range(12)]
    batch = mixed_batch(now + 200 * MS, [publish_span(o) for o in orders], ids)
    for part in (*orders, batch):
        everything.extend(part)
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.write(everything.spans, everything.invocations)
    store.close()
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{tmp_path}/s.db")
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    # WHEN the batch's trace is opened
    at = open_page(PAGES[1], {"trace": root(batch).trace_id})
    no_exception(at)
    # THEN every carried trace is linked once, five in view and seven folded into one expander
    joined = [link.proto.query_string for link in at.get("page_link") if "batch record from" in link.label]
    assert len(joined) == 12 and all(any(f"trace={o.spans[0].trace_id}" in q for q in joined) for o in orders)
    [folded] = [e for e in at.expander if "joined traces" in e.label]
    assert folded.label == "7 more joined traces" and len(folded.get("page_link")) == 7
    assert any("**Joined traces** (12)" in m.value for m in at.markdown)
    # AND the selected span's own twelve links fold the same way, above its log
    [links] = [e for e in at.expander if e.label.endswith("more links")]
    assert links.label == "7 more links"
