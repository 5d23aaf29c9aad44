"""Alert state and transitions live in the span store: the same SQLite file, or the same DynamoDB table."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hoptrace_alerts.config import AlertConfig
from hoptrace_alerts.evaluator import Evaluator, run_once
from hoptrace_alerts.states import open_state_store
from hoptrace_collector.store import Store, open_store
from tests.alerts.conftest import Recorder
from tests.alerts.traffic import Traffic, minute


@pytest.fixture
def dynamo_store(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS

    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    store = open_store(f"dynamodb://alerts-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto_endpoint}"
                       "&create=1")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.slow)])
def any_store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue("store" if request.param == "sqlite" else "dynamo_store")


def _spike(store: Store) -> list[str]:
    traffic = Traffic()
    traffic.steady("payments", range(0, 6))
    traffic.steady("payments", range(7, 10))
    failed = traffic.minute_of("payments", 6, errors=10)[:10]
    for i, trace_id in enumerate(failed[:2]):
        traffic.dead_letter("payments-dlq", minute(6.5 + i / 10), trace_id)
    traffic.write(store)
    return failed


def test_fire_resolve_close_is_recorded_in_the_store(any_store: Store, rules: AlertConfig,
                                                     recorder: Recorder) -> None:
    failed = _spike(any_store)
    evaluator = Evaluator(any_store, open_state_store(any_store), rules)
    for k in range(6, 11):
        run_once(evaluator, [recorder], minute(k))
    # a fresh state store over the same store sees everything the evaluator recorded
    states = open_state_store(any_store)
    assert {key: s.state for key, s in states.states().items()} == {
        ("error_spike", "payments"): "ok", ("dlq_arrivals", "payments-dlq"): "ok"}
    history = states.history()
    assert [(t.time_ns, t.rule, t.to_state) for t in history] == [
        (minute(10), "error_spike", "ok"), (minute(10), "dlq_arrivals", "ok"),
        (minute(8), "error_spike", "resolved"), (minute(8), "dlq_arrivals", "resolved"),
        (minute(7), "error_spike", "firing"), (minute(7), "dlq_arrivals", "firing")]
    fired = states.history(rule="error_spike", since_ns=minute(7), until_ns=minute(7))[0]
    assert fired.finding.current == pytest.approx(0.5) and fired.finding.baseline == pytest.approx(0.05)
    assert set(fired.finding.examples) <= set(failed)
    assert fired.delivery == {"recorder": "ok"}  # how the notification went, stored on the transition
    assert history[0].delivery == {}  # closing an incident notifies nobody
    assert states.history(subject="payments-dlq", limit=1)[0].to_state == "ok"
    run = states.last_run()
    assert run is not None and run.time_ns == minute(10) and run.firing == 0
    assert run.evaluated == 6  # five rules on payments, one on its DLQ


def test_racing_evaluators_cannot_record_a_move_twice(any_store: Store, rules: AlertConfig) -> None:
    _spike(any_store)
    first = Evaluator(any_store, open_state_store(any_store), rules)
    second = Evaluator(any_store, open_state_store(any_store), rules)
    a, b = first.evaluate(minute(7)), second.evaluate(minute(7))
    assert len(first.commit(a)) == 2
    assert second.commit(b) == []
    # and the next move of the same alert (from the stored version) still goes through
    assert len(second.commit(second.evaluate(minute(8)))) == 2


def test_alert_items_do_not_disturb_the_span_store(any_store: Store, rules: AlertConfig) -> None:
    _spike(any_store)
    run_once(Evaluator(any_store, open_state_store(any_store), rules), [], minute(7))
    assert any_store.functions() == ["payments"]
    assert {m.queue for m in any_store.dlq_messages()} == {"payments-dlq"}
    any_store.delete_older_than(minute(100))  # retention of spans leaves open incidents alone
    assert {s.state for s in open_state_store(any_store).states().values()} == {"firing"}


def test_sqlite_alert_tables_sit_beside_the_span_tables(store: Store, rules: AlertConfig) -> None:
    open_state_store(store)
    open_state_store(store)  # idempotent
    path = store.url.split("///", 1)[1]
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"spans", "alert_state", "alert_transitions", "alert_runs"} <= tables
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.slow
def test_dynamodb_alert_items_use_their_own_keys(dynamo_store: Store, rules: AlertConfig, aws: Any) -> None:
    _spike(dynamo_store)
    run_once(Evaluator(dynamo_store, open_state_store(dynamo_store), rules), [], minute(7))
    items = aws("dynamodb").scan(TableName=dynamo_store.table)["Items"]  # type: ignore[attr-defined]
    alert_keys = sorted((i["pk"]["S"], i["sk"]["S"]) for i in items if i["pk"]["S"].startswith("ALERT#"))
    day = minute(7) // (86_400 * 1_000_000_000)
    assert alert_keys == sorted([
        ("ALERT#STATE", "error_spike#payments"), ("ALERT#STATE", "dlq_arrivals#payments-dlq"),
        (f"ALERT#LOG#{day}", f"{minute(7):020d}#error_spike#payments"),
        (f"ALERT#LOG#{day}", f"{minute(7):020d}#dlq_arrivals#payments-dlq"), ("ALERT#RUN", "last")])
    assert all("g1pk" not in i and "g1sk" not in i for i in items if i["pk"]["S"].startswith("ALERT#"))
