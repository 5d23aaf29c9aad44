"""Numbers an on-call engineer can trust: each misleading figure seen on a demo run, and what replaced it."""

from __future__ import annotations

import time

from hoptrace_collector.store import SpanRecord, open_store
from hoptrace_dashboard import alerts, charts, queries
from hoptrace_dashboard.display import Clock
from tests.dashboard.conftest import ShopStore
from tests.dashboard.test_pages import PAGES, no_exception, open_page, table_with

MINUTE = 60 * 10**9


def test_time_axes_use_a_24_hour_clock() -> None:
    frame = queries.pd.DataFrame({"bucket_start_ns": [17 * 3600 * 10**9 + 9 * MINUTE], "function": ["f"],
                                  "invocations": [3]})
    spec = charts.series(frame, "invocations", "invocations", Clock.of(None, utc=True)).to_dict()
    assert spec["encoding"]["x"]["axis"]["format"] == "%H:%M"


def test_partial_first_and_last_minutes_are_not_drawn(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN steady traffic, one invocation every 10 s, and a range that starts and ends mid-minute
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    base = (time.time_ns() // MINUTE - 10) * MINUTE
    store.write([SpanRecord(f"{n + 1:032x}", f"{n + 1:016x}", None, "f", "server", base + n * 10**10,
                            base + n * 10**10 + 10**6, "ok", function="f", request_id=f"r{n}") for n in range(60)])
    series = queries.function_series(store, since_ns=base + 30 * 10**9, until_ns=base + 5 * MINUTE + 30 * 10**9,
                                     bucket_s=60)
    # THEN only whole minutes are drawn: all with the same count, no fake fall at either end
    assert list(series["bucket_start_ns"]) == [base + m * MINUTE for m in range(1, 5)]
    assert set(series["invocations"]) == {6}


def test_rule_fields_read_as_written_not_as_python_reprs() -> None:
    assert alerts.field_text(("timeout", "oom")) == "timeout, oom"
    assert alerts.field_text(True) == "true" and alerts.field_text(0.05) == "0.05"


def test_no_firing_message_is_never_shown_above_firing_rules() -> None:
    assert alerts.no_firing_message(0) == ("success", "No alert is firing.")
    kind, text = alerts.no_firing_message(2)
    assert kind == "warning" and "2 rules would fire" in text and "No alert is firing" not in text


def test_alerts_page_rule_fields_have_no_reprs(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[5])
    no_exception(at)
    fields = " ".join(table_with(at, "fields")["fields"])
    assert "('" not in fields and "frozenset" not in fields


def test_cold_vs_warm_reads_in_plain_milliseconds() -> None:
    frame = queries.pd.DataFrame({"function": ["f", "f"], "start": ["cold", "warm"], "invocations": [1, 9],
                                  "p50_ms": [900.0, 20.0], "p95_ms": [1200.0, 40.0]})
    spec = charts.cold_vs_warm(frame).to_dict()
    assert spec["resolve"]["scale"]["x"] == "independent"
    assert "symlog" not in str(spec) and "log-like" not in str(spec)


def test_traces_table_shows_errors_and_cold_starts_before_the_wide_columns(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[1])
    no_exception(at)
    [table] = [df for df in at.dataframe if "root_name" in df.value.columns]
    order = list(table.proto.column_order)
    assert order.index("error_count") < order.index("root_name") and order.index("cold_starts") < order.index(
        "services")


def test_a_function_with_spans_but_no_platform_lines_is_flagged(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN two functions with spans; only one has its platform lines (REPORT → invocation records)
    from hoptrace_collector.store import InvocationRecord
    from hoptrace_dashboard.settings import ENV_STORE

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    now = time.time_ns() - 5 * MINUTE
    store.write([SpanRecord(f"{n + 1:032x}", f"{n + 1:016x}", None, fn, "server", now, now + 10**6, "ok",
                            function=fn, service=fn, request_id=f"r{n}") for n, fn in enumerate(["loud", "quiet"])],
                [InvocationRecord("r0", "loud", now + 10**6, duration_ms=1.0)])
    assert queries.without_platform_lines(store, now - MINUTE, now + MINUTE) == ["quiet"]
    store.close()
    # THEN the Overview says so, naming the fix
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{tmp_path}/s.db")
    at = open_page(PAGES[0])
    no_exception(at)
    warning = next(w.value for w in at.warning if "No platform lines" in w.value)
    assert "quiet" in warning and "loud" not in warning.split(":")[0] and "SystemLogLevel" in warning


def test_service_map_charges_consumer_failures_to_the_consumer_edge_and_prints_no_none(
        dashboard_env: ShopStore) -> None:
    # GIVEN the poison order: three failed receives of a message SNS delivered into the payments queue
    edges = queries.service_edges(open_store(dashboard_env.url), since_ns=0, until_ns=time.time_ns()).frame
    delivery = edges[(edges["source_label"] == "SNS order-events") & (edges["target_label"] == "SQS payments-queue")]
    # THEN the SNS → SQS delivery edge has no errors (every message arrived)
    assert not delivery.empty and int(delivery["errors"].sum()) == 0
    at = open_page(PAGES[2])
    no_exception(at)
    table = table_with(at, "queue_wait")
    assert "None" not in set(table["queue_wait"].astype(str)) and "" in set(table["queue_wait"])


def test_a_raw_delivery_edge_counts_every_message_once_whichever_batch_carried_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a topic delivering raw (no SNS envelope, so a record does not say its topic) into a queue, and
    # a consumer whose batches came in every shape the layer writes
    from hoptrace import semconv

    now = time.time_ns() - 10 * MINUTE
    ids = iter(range(1, 1000))
    spans: list[SpanRecord] = []

    def span(function: str, kind: str, at: int, parent: str | None, trace: str, attributes: dict, links=(),  # type: ignore[no-untyped-def]
             request_id: str | None = None) -> SpanRecord:
        record = SpanRecord(trace, f"{next(ids):016x}", parent, "x", kind, at, at + 10**6, "ok", function=function,
                            service=function, request_id=request_id, attributes=attributes,
                            trigger=attributes.get(semconv.TRIGGER),
                            links=[{"trace_id": trace, "span_id": s, "attributes": {}} for s in links])
        spans.append(record)
        return record

    def publish(at: int) -> SpanRecord:
        trace = f"{next(ids):032x}"
        return span("shop", "producer", at, None, trace, {
            semconv.RPC_SERVICE: "SNS", semconv.MESSAGING_DESTINATION: "arn:aws:sns:us-east-1:1:order-events"})

    def batch(at: int, messages: list[tuple[str, SpanRecord]], continued: bool) -> None:
        """One consumer invocation; a batch of one trace continues it (records under the invocation, linked
        to their producer), a batch of several parents each record on its producer."""
        parent = messages[0][1] if continued else None
        trace = parent.trace_id if parent else f"{next(ids):032x}"
        invocation = span("stock", "consumer", at, parent.span_id if parent else None, trace, {
            semconv.TRIGGER: "sqs", semconv.MESSAGING_SYSTEM: "aws_sqs", semconv.MESSAGING_OPERATION: "process",
            semconv.MESSAGING_DESTINATION: "inventory-queue"}, request_id=f"r{at}")
        for message_id, producer in messages:
            span("stock", "consumer", at + 10**5, invocation.span_id if continued else producer.span_id,
                 producer.trace_id, {semconv.MESSAGING_SYSTEM: "aws_sqs", semconv.MESSAGING_OPERATION: "process",
                                     semconv.MESSAGING_DESTINATION: "inventory-queue",
                                     semconv.MESSAGING_MESSAGE_ID: message_id}, links=[producer.span_id])

    p1, p2, p3, early = publish(now), publish(now + 10**6), publish(now + 2 * 10**6), publish(now - 20 * MINUTE)
    batch(now + 10 * 10**6, [("m1", p1)], continued=True)  # a batch of one message
    batch(now + 20 * 10**6, [("m2", p2), ("m3", p3)], continued=False)  # a batch mixing two traces
    batch(now + 40 * 10**6, [("m1", p1)], continued=True)  # m1 received again
    batch(now + 50 * 10**6, [("m0", early)], continued=True)  # published before the range
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.write(spans)
    edges = queries.service_edges(store, since_ns=now - MINUTE, until_ns=now + MINUTE).frame.set_index("hop")
    # THEN the delivery edge counts the four messages that arrived, each once, however it was batched
    delivery = edges.loc["SNS → SQS"]
    assert (delivery["source_label"], delivery["target_label"]) == ("SNS order-events", "SQS inventory-queue")
    assert (int(delivery["calls"]), delivery["unit"]) == (4, "messages")
    # AND the queue's edge to the consumer counts its four invocations, and says so
    consumer = edges.loc["SQS"]
    assert (int(consumer["calls"]), consumer["unit"]) == (4, "calls")
    from hoptrace_dashboard import servicemap

    assert servicemap.edge_label(delivery).startswith("4 messages") and servicemap.edge_label(consumer).startswith(
        "4 calls")
