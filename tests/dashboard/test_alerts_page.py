"""The Alerts page (AppTest) over a store where the evaluator has run: firing, history, what each rule sees, rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoptrace_alerts.config import load
from hoptrace_alerts.evaluator import Evaluator, run_once
from hoptrace_alerts.states import open_state_store
from hoptrace_collector.store import open_store
from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN
from tests.alerts.conftest import RULES_TOML
from tests.alerts.traffic import Traffic, minute
from tests.dashboard.test_pages import PAGES, no_exception, open_page, table_with

ALERTS, OVERVIEW = PAGES[5], PAGES[0]


@pytest.fixture
def alerted_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Payments' error rate spikes in minute 6 (of 1-minute windows); the evaluator ran at minutes 7 and 8,
    and the orders DLQ received a message in minute 8 (still firing)."""
    url = f"sqlite:///{tmp_path}/spans.db"
    store = open_store(url)
    traffic = Traffic()
    for function in ("payments", "orders"):
        traffic.steady(function, range(0, 6))
        traffic.steady(function, range(7, 9))
    failed = traffic.minute_of("payments", 6, errors=10)
    traffic.minute_of("orders", 6)
    traffic.dead_letter("orders-dlq", minute(8.5), failed[0])
    traffic.write(store)
    rules = load(RULES_TOML, environ={})
    evaluator = Evaluator(store, open_state_store(store), rules)
    for k in (7, 8, 9):
        run_once(evaluator, [], minute(k))
    store.close()
    monkeypatch.setenv(ENV_STORE, url)
    monkeypatch.setenv("HOPTRACE_ALERT_RULES", RULES_TOML)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    return url


def test_the_page_shows_firing_history_now_and_rules(alerted_store: str) -> None:
    at = open_page(ALERTS)
    no_exception(at)
    assert "Last evaluation" in at.caption[0].value and "1 firing" in at.caption[0].value
    states = table_with(at, "since")
    assert list(zip(states["state"], states["subject"], strict=True)) == [("firing", "orders-dlq"),
                                                                           ("resolved", "payments")]
    history = table_with(at, "move")
    assert list(zip(history["move"], history["subject"], strict=True)) == [
        ("ok → firing", "orders-dlq"), ("firing → resolved", "payments"), ("ok → firing", "payments")]
    assert "error rate 50.0% (10 of 20 invocations in the last 1 min) vs baseline 5.0%" in history["summary"].iloc[2]
    assert list(history["sent"]) == ["no channel configured"] * 3  # the evaluator ran without channels
    rules = table_with(at, "fields")
    assert list(rules["key"]) == ["cold_start_spike", "error_spike", "latency_regression", "dlq_arrivals",
                                  "platform_deaths", "silent_function"]
    assert "min_invocations = 10" in rules[rules["key"] == "error_spike"]["fields"].iloc[0]
    now = table_with(at, "summary")
    assert "state" in now.columns
    # every row links to the Traces page filtered like the rule, opened on an example trace
    links = [q for q in table_with(at, "move")["open"] if q]
    assert any("function=payments" in q and "status=error" in q and "trace=" in q for q in links)


def test_the_overview_lists_what_fires(alerted_store: str) -> None:
    at = open_page(OVERVIEW)
    no_exception(at)
    assert any("1 alert(s) firing" in e.value for e in at.error)
    firing = table_with(at, "threshold")
    assert list(firing["function"]) == ["orders-dlq"] and list(firing["value"]) == ["1 messages"]


def test_a_store_never_evaluated_says_what_will_be_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/spans.db"
    store = open_store(url)
    traffic = Traffic()
    traffic.steady("orders", range(0, 3))
    traffic.write(store)
    store.close()
    monkeypatch.setenv(ENV_STORE, url)
    monkeypatch.delenv("HOPTRACE_ALERT_RULES", raising=False)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    at = open_page(ALERTS)
    no_exception(at)
    assert "What will be here" in at.info[0].value
    assert "from built\\-in defaults" in " ".join(c.value for c in at.caption)  # Markdown-escaped


def test_the_rules_shown_are_the_evaluators_and_invalid_ones_are_named(alerted_store: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the dashboard process has other (here: invalid) rules than the evaluator ran with
    monkeypatch.setenv("HOPTRACE_ALERT_RULES", "[rules.error_spike]\nmin_invocations = -3\n")
    # THEN the page shows the evaluator's rules, kept with its last run
    at = open_page(ALERTS)
    no_exception(at)
    assert "min_invocations = 10" in table_with(at, "fields")["fields"].iloc[1]
    # and on a store the evaluator never ran on, the invalid file is reported by rule and field
    fresh = tmp_path / "fresh.db"
    store = open_store(f"sqlite:///{fresh}")
    traffic = Traffic()
    traffic.steady("orders", range(0, 2))
    traffic.write(store)
    store.close()
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{fresh}")
    at = open_page(ALERTS)
    no_exception(at)
    assert at.error and "rules.error_spike.min_invocations: must be a positive integer, got -3" in at.code[0].value
