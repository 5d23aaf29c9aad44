"""The demo's order saga for real: the shop in the local cloud (moto server, worker processes, the hoptrace
layer, the collectors), an order placed over HTTP, the Step Functions execution it starts, and the store
alone telling the whole story — API request, execution, every state, the retried charge, the compensation."""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from hoptrace.propagation import new_span_id, new_trace_id
from hoptrace_cli import layerdir
from hoptrace_cli.demo import shop
from hoptrace_cli.demo.command import cloud_config
from hoptrace_cli.demo.rundir import new_run
from hoptrace_collector.store import SpanRecord, open_store
from hoptrace_localcloud.cloud import LocalCloud

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shop_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, str]]:
    run_dir = new_run(tmp_path_factory.mktemp("saga"))
    layerdir.assemble(run_dir.layer_dir)
    template = shop.stage(run_dir.app_dir)
    args = argparse.Namespace(port=0, report_every=600, payment_failure_rate=0.0, payment_latency_ms=5.0,
                              notification_failure_rate=0.0, alert_rules=shop.ALERT_RULES, alert_webhook_url="")
    config = cloud_config(run_dir, args)
    with LocalCloud(template, config) as cloud:
        yield cloud, run_dir.store_url


def place(cloud: LocalCloud, token: str) -> tuple[str, str, str]:
    """POST a saga order with a client traceparent; returns (trace id, client span id, order id)."""
    trace_id, span_id = f"{new_trace_id():032x}", f"{new_span_id():016x}"
    body = {"customer": "ada", "items": [{"sku": "book", "qty": 2}], "amount": 30, "checkout": "saga",
            "payment_token": token}
    request = urllib.request.Request(cloud.api_url + "/orders", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "traceparent": f"00-{trace_id}-{span_id}-01"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert answer["saga"] is True
    return trace_id, span_id, answer["order_id"]


def wait_for_trace(store_url: str, trace_id: str, ready: Any, timeout: float = 90.0) -> list[SpanRecord]:
    store = open_store(store_url)
    deadline, spans = time.monotonic() + timeout, []
    try:
        while time.monotonic() < deadline:
            spans = store.get_trace(trace_id)
            if ready(spans):
                return spans
            time.sleep(0.5)
    finally:
        store.close()
    raise AssertionError(f"trace {trace_id} never became whole: {sorted((s.function, s.name) for s in spans)}")


def _names(spans: list[SpanRecord]) -> set[str]:
    return {s.name for s in spans}


def _by_name(spans: list[SpanRecord], name: str) -> SpanRecord:
    found = [s for s in spans if s.name == name]
    assert found, f"no span {name!r} in {sorted(_names(spans))}"
    return found[0]


def test_a_declined_charge_runs_the_compensation_and_one_trace_holds_it_all(shop_cloud):
    cloud, store_url = shop_cloud
    # GIVEN an order whose card the provider declines
    trace_id, client_span, order_id = place(cloud, "tok_chargeDeclined")

    # WHEN the saga has run and both collectors stored what they saw
    def whole(spans: list[SpanRecord]) -> bool:
        functions = {s.function for s in spans}
        return {"demo-order-saga execution", "MarkOrderFailed", "OrderFailed"} <= _names(spans) and {
            "demo-reserve-stock", "demo-charge-payment", "demo-release-stock"} <= functions

    spans = wait_for_trace(store_url, trace_id, whole)
    by_id = {s.span_id: s for s in spans}
    # THEN one trace holds the API request ...
    api = _by_name(spans, "POST /orders")
    assert api.parent_id == client_span
    # ... the execution, a child of the orders API's StartExecution call ...
    execution = _by_name(spans, "demo-order-saga execution")
    start_call = by_id[execution.parent_id]
    assert start_call.function == "demo-orders-api" and start_call.attributes.get("rpc.method") == "StartExecution"
    assert execution.status == "error" and execution.attributes["hoptrace.sfn.error"] == "OrderFailed"
    # ... every state, under the execution ...
    states = {s.name: s for s in spans if s.source == "history" and s is not execution}
    assert set(states) == {"ReserveStock", "ChargePayment", "ReleaseStock", "MarkOrderFailed", "OrderFailed"}
    assert {s.parent_id for s in states.values()} == {execution.span_id}
    # ... the failed charge in red, caught, and the compensation after it marked and green
    charge = states["ChargePayment"]
    assert charge.status == "error" and charge.status_message.startswith("PaymentDeclined")
    assert "caught" in [e["name"] for e in charge.events]
    for name in ("ReleaseStock", "MarkOrderFailed"):
        assert states[name].status == "ok" and states[name].attributes["hoptrace.sfn.compensation"] is True
    assert "hoptrace.sfn.compensation" not in states["ReserveStock"].attributes
    # ... and each Lambda task's invocation under its state (the compensating task included)
    for function, state in (("demo-reserve-stock", "ReserveStock"), ("demo-charge-payment", "ChargePayment"),
                            ("demo-release-stock", "ReleaseStock")):
        invocation = next(s for s in spans if s.function == function and s.kind == "server")
        assert invocation.parent_id == states[state].span_id, (function, state)
        assert invocation.trigger == "stepfunctions"
    # AND the order's record says what happened
    item = cloud.client("dynamodb").get_item(TableName=cloud.resource("OrdersTable").ref,
                                             Key={"order_id": {"S": order_id}})["Item"]
    assert item["status"] == {"S": "payment_failed"} and item["failure"] == {"S": "PaymentDeclined"}


def test_a_retried_charge_shows_its_retries_and_the_order_is_confirmed(shop_cloud):
    cloud, store_url = shop_cloud
    trace_id, _, order_id = place(cloud, "tok_providerBusy")

    def whole(spans: list[SpanRecord]) -> bool:
        charges = [s for s in spans if s.function == "demo-charge-payment" and s.kind == "server"]
        return "ConfirmOrder" in _names(spans) and len(charges) >= 2

    spans = wait_for_trace(store_url, trace_id, whole)
    charge = _by_name(spans, "ChargePayment")
    assert charge.status == "ok" and charge.attributes["hoptrace.sfn.retry_count"] == 1
    assert [e["name"] for e in charge.events] == ["TaskFailed", "retry"]
    attempts = sorted((s for s in spans if s.function == "demo-charge-payment" and s.kind == "server"),
                      key=lambda s: s.start_ns)
    assert [a.status for a in attempts] == ["error", "unset"]  # the layer leaves a success unset, as OTel does
    assert {a.parent_id for a in attempts} == {charge.span_id}
    assert _by_name(spans, "demo-order-saga execution").status == "ok"
    item = cloud.client("dynamodb").get_item(TableName=cloud.resource("OrdersTable").ref,
                                             Key={"order_id": {"S": order_id}})["Item"]
    assert item["status"] == {"S": "confirmed"}
