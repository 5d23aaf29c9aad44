"""The dashboard's read API: rules with their config, states, history, and a preview that stores nothing."""

from __future__ import annotations

import dataclasses
import sqlite3

from hoptrace_alerts import view
from hoptrace_alerts.config import AlertConfig, load
from hoptrace_alerts.evaluator import Evaluator, run_once
from hoptrace_alerts.states import open_state_store
from hoptrace_collector.store import Store
from tests.alerts.conftest import RULES_TOML
from tests.alerts.traffic import Traffic, minute


def _incident(store: Store, rules: AlertConfig) -> None:
    traffic = Traffic()
    traffic.steady("payments", range(0, 6))
    traffic.steady("orders", range(0, 8))
    traffic.minute_of("payments", 6, errors=10)
    traffic.write(store)
    evaluator = Evaluator(store, open_state_store(store), rules)
    run_once(evaluator, [], minute(7))


def test_rules_show_effective_fields_docs_and_overrides() -> None:
    rows = view.rules(load(RULES_TOML + '[overrides."pay*".error_spike]\nmin_invocations = 3\n', environ={}))
    assert [r.rule for r in rows] == ["cold_start_spike", "error_spike", "latency_regression", "dlq_arrivals",
                                      "platform_deaths", "silent_function"]
    errors = next(r for r in rows if r.rule == "error_spike")
    assert (errors.title, errors.per, errors.params["min_invocations"], errors.overrides) == (
        "Error-rate spike", "function", 10, ("pay*",))
    assert "baseline" in errors.docs["factor"]
    assert next(r for r in rows if r.rule == "dlq_arrivals").per == "queue"


def test_states_history_and_last_run(store: Store, rules: AlertConfig) -> None:
    assert view.states(store) == [] and view.last_run(store) is None and view.history(store) == []
    assert view.preview(store, rules) == []
    path = store.url.split("///", 1)[1]
    with sqlite3.connect(path) as db:  # looking changed nothing: no alert tables before the first evaluation
        assert not db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'alert%'").fetchall()
    _incident(store, rules)
    firing = view.firing(store)
    assert [(r.rule, r.subject, r.state) for r in firing] == [("error_spike", "payments", "firing")]
    assert firing[0].traces_query["function"] == "payments" and firing[0].traces_query["status"] == "error"
    assert firing[0].traces_query["trace"] == firing[0].examples[0]
    history = view.history(store, since_ns=minute(0))
    assert [(h.rule, h.from_state, h.to_state, h.notified) for h in history] == [
        ("error_spike", "ok", "firing", True)]
    assert view.history(store, since_ns=minute(8)) == []
    run = view.last_run(store)
    assert run is not None and run.time_ns == minute(7) and run.firing == 1
    evaluated = view.evaluated_rules(store)  # the rules of that run, kept with it
    assert evaluated is not None and evaluated.rules == rules.rules and evaluated.overrides == rules.overrides
    # rows become a DataFrame in one call
    assert set(dataclasses.asdict(history[0])) >= {"time_ns", "rule", "subject", "summary", "current", "baseline"}


def test_preview_shows_every_alert_now_and_stores_nothing(store: Store, rules: AlertConfig) -> None:
    _incident(store, rules)
    rows = view.preview(store, rules, minute(8))
    assert {(r.rule, r.subject) for r in rows} >= {("error_spike", "payments"), ("error_spike", "orders")}
    assert next(r for r in rows if (r.rule, r.subject) == ("error_spike", "payments")).state == "resolved"
    assert view.firing(store)[0].state == "firing"  # the preview's resolution was not stored
