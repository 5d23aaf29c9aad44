"""The fixture store every dashboard test reads: the shop's traffic of the last hour, written through the Store API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from hoptrace_collector.store import open_store
from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN
from tests.dashboard.shop import (
    MS,
    Flow,
    Ids,
    Records,
    mixed_batch,
    order_flow,
    out_of_memory,
    publish_span,
    root,
    timed_out_report,
)

APP = Path(__file__).resolve().parents[2] / "dashboard" / "hoptrace_dashboard" / "app.py"
MINUTE = 60_000 * MS


@dataclass(frozen=True)
class ShopStore:
    url: str
    happy: Records  # cold starts in orders-api and payments, every hop
    poison: Records  # ends in the payments DLQ after three receives
    retried: Records  # the first notification attempt fails, the retry succeeds
    declined: Records
    batched: tuple[Records, Records, Records]  # two orders and the payments batch that mixed them
    timeout: Records
    path: Path


def build_shop_store(path: Path, now_ns: int | None = None) -> ShopStore:
    now = now_ns or time.time_ns()
    start = now - 50 * MINUTE
    ids = Ids(2026)
    happy = order_flow(start, Flow(order="o-1", cold=frozenset({"demo-orders-api", "demo-payments"})), ids)
    poison = order_flow(start + 5 * MINUTE, Flow(order="o-13", poison=True), ids)
    retried = order_flow(start + 10 * MINUTE, Flow(order="o-7", notify_retry=True), ids)
    declined = order_flow(start + 15 * MINUTE, Flow(order="o-9", declined=True), ids)
    first = order_flow(start + 20 * MINUTE, Flow(order="o-21", batched=True), ids)
    second = order_flow(start + 20 * MINUTE + 3 * MS, Flow(order="o-22", batched=True), ids)
    batch = mixed_batch(start + 20 * MINUTE + 90 * MS, [publish_span(first), publish_span(second)], ids)
    timeout = timed_out_report(start + 25 * MINUTE, ids)
    everything = Records()
    for part in (happy, poison, retried, declined, first, second, batch, timeout,
                 out_of_memory(start + 30 * MINUTE, ids)):
        everything.extend(part)
    for i in range(24):  # steady warm traffic so the charts have a shape
        everything.extend(order_flow(start + 2 * MINUTE * i + 30 * MS, Flow(
            order=f"f-{i}", payment_ms=30 + 7 * i, cold=frozenset({"demo-inventory"}) if i % 8 == 0 else frozenset()),
            ids))
    store = open_store(f"sqlite:///{path}")
    try:
        store.write(everything.spans, everything.invocations, everything.dlq)
        store.write_logs(everything.logs)
    finally:
        store.close()
    return ShopStore(f"sqlite:///{path}", happy, poison, retried, declined, (first, second, batch), timeout, path)


@pytest.fixture(scope="session")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> ShopStore:
    return build_shop_store(tmp_path_factory.mktemp("shop") / "spans.db")


@pytest.fixture
def dashboard_env(shop_store: ShopStore, monkeypatch: pytest.MonkeyPatch) -> ShopStore:
    monkeypatch.setenv(ENV_STORE, shop_store.url)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    return shop_store


__all__ = ["APP", "ShopStore", "build_shop_store", "root"]
