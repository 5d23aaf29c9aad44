"""Synthetic traffic with known incidents: exactly which alerts fire, when, when they resolve, and nothing else.

Windows are one minute, the baseline the five before, the cooldown two minutes (conftest.RULES_TOML).
An evaluation at minute k judges the traffic of minute k-1.
"""

from __future__ import annotations

import pytest

from hoptrace_alerts.config import AlertConfig
from hoptrace_alerts.evaluator import Evaluator, run_once
from hoptrace_alerts.states import open_state_store
from hoptrace_collector.store import Store
from tests.alerts.conftest import Recorder
from tests.alerts.traffic import Traffic, minute

QUIET = ("quiet-api", "quiet-worker")


def moves(store: Store, rules: AlertConfig, recorder: Recorder, at: float) -> set[tuple[str, str, str, bool]]:
    """(rule, subject, new state, notified) of every move the evaluation at minute `at` stored."""
    evaluator = Evaluator(store, open_state_store(store), rules)
    _, applied = run_once(evaluator, [recorder], minute(at))
    return {(t.rule, t.subject, t.to_state, t.notify) for t in applied}


@pytest.fixture
def incidents(store: Store) -> dict[str, list[str]]:
    """Ten minutes of quiet traffic (5% errors, 5% cold starts, ~50 ms) with one incident of each kind in minute 6."""
    traffic, examples = Traffic(), {}
    for function in (*QUIET, "payments", "signup", "search", "billing", "reports"):
        traffic.steady(function, range(0, 6))
        traffic.steady(function, range(7, 12))
    for function in QUIET:
        traffic.minute_of(function, 6)
    examples["payments"] = traffic.minute_of("payments", 6, errors=10)[:10]  # 50% errors
    examples["signup"] = traffic.minute_of("signup", 6, colds=12)[-12:]  # 60% cold starts
    traffic.minute_of("search", 6, duration_ms=600)  # p95 50 ms -> 600 ms
    traffic.minute_of("billing", 6, count=40, errors=0)  # busy enough that 2 deaths do not move its error rate
    examples["billing"] = [traffic.death("billing", minute(6.5)), traffic.death("billing", minute(6.6), "oom")]
    traffic.minute_of("reports", 6)
    traffic.steady("nightly", range(0, 5))  # then silent from minute 5 on
    examples["orders-dlq"] = examples["payments"][:3]
    for i, trace_id in enumerate(examples["orders-dlq"]):
        traffic.dead_letter("orders-dlq", minute(6.2 + i / 10), trace_id)
    traffic.write(store)
    return examples


def test_each_incident_fires_once_then_resolves_and_closes(store: Store, rules: AlertConfig, recorder: Recorder,
                                                          incidents: dict[str, list[str]]) -> None:
    # GIVEN the store with one incident of each kind in minute 6 (and "nightly" silent from minute 5)
    # WHEN the evaluator runs at the end of every minute
    timeline = {k: moves(store, rules, recorder, k) for k in range(1, 14)}  # traffic ends with minute 11
    # THEN nothing moves before the incidents
    assert all(timeline[k] == set() for k in range(1, 7))
    # the minute after the incidents, each fires, and only it
    assert timeline[7] == {
        ("error_spike", "payments", "firing", True),
        ("cold_start_spike", "signup", "firing", True),
        ("latency_regression", "search", "firing", True),
        ("platform_deaths", "billing", "firing", True),
        ("dlq_arrivals", "orders-dlq", "firing", True),
        ("silent_function", "nightly", "firing", True),  # nothing in minutes 5-6, 100 invocations before
    }
    # one quiet minute later every incident but the silence resolves (notified once)
    assert timeline[8] == {
        ("error_spike", "payments", "resolved", True),
        ("cold_start_spike", "signup", "resolved", True),
        ("latency_regression", "search", "resolved", True),
        ("platform_deaths", "billing", "resolved", True),
        ("dlq_arrivals", "orders-dlq", "resolved", True),
    }
    assert timeline[9] == set()  # within the cooldown
    # after the two-minute cooldown the incidents close, silently
    assert timeline[10] == {(rule, subject, "ok", False) for rule, subject, _, _ in timeline[8]}
    # and the silent function stays firing although its traffic has left the lookback
    assert timeline[11] == timeline[12] == timeline[13] == set()
    assert [n.status for n in recorder.sent].count("FIRING") == 6
    assert [n.status for n in recorder.sent].count("RESOLVED") == 5


def test_quiet_traffic_fires_nothing(store: Store, rules: AlertConfig, recorder: Recorder) -> None:
    # GIVEN fifteen minutes of steady traffic with its usual 5% errors and cold starts, and a slow-ish but steady p95
    traffic = Traffic()
    for function in QUIET:
        traffic.steady(function, range(0, 15))
    traffic.steady("slow-but-steady", range(0, 15), duration_ms=900, errors=2, colds=0)
    traffic.write(store)
    # WHEN the evaluator runs every minute, including the first minutes that have no baseline yet
    timeline = [moves(store, rules, recorder, k) for k in range(0, 16)]
    # THEN nothing ever fires
    assert timeline == [set()] * 16
    assert recorder.sent == []


def test_the_transition_records_figures_and_example_traces(store: Store, rules: AlertConfig, recorder: Recorder,
                                                          incidents: dict[str, list[str]]) -> None:
    for k in range(5, 9):
        moves(store, rules, recorder, k)
    history = open_state_store(store).history(rule="error_spike", subject="payments")
    assert [(t.from_state, t.to_state, t.time_ns) for t in history] == [
        ("firing", "resolved", minute(8)), ("ok", "firing", minute(7))]
    fired = history[1].finding
    assert fired.current == pytest.approx(0.5)  # 10 of 20
    assert fired.baseline == pytest.approx(0.05)  # 5 of 100 in minutes 1-5
    assert fired.threshold == pytest.approx(0.10)  # max(2 x 5%, 5% + 5 points)
    assert fired.counts == {"invocations": 20, "matching": 10, "baseline_invocations": 100, "baseline_matching": 5}
    assert fired.summary.startswith("error rate 50.0% (10 of 20 invocations in the last 1 min) vs baseline 5.0%")
    assert set(fired.examples) <= set(incidents["payments"]) and len(fired.examples) == 3
    dlq = open_state_store(store).history(rule="dlq_arrivals")[-1].finding
    assert dlq.function == "payments" and set(dlq.examples) == set(incidents["orders-dlq"])
    deaths = open_state_store(store).history(rule="platform_deaths")[-1].finding
    assert deaths.counts == {"timeout": 1, "oom": 1} and set(deaths.examples) == set(incidents["billing"])


def test_a_flapping_incident_notifies_once(store: Store, rules: AlertConfig, recorder: Recorder) -> None:
    # GIVEN error spikes in minutes 6 and 8, with one quiet minute between them
    traffic = Traffic()
    traffic.steady("payments", range(0, 15))
    traffic.minute_of("payments", 6, errors=10)
    traffic.minute_of("payments", 8, errors=10)
    # (the spikes' invocations come on top of the steady ones: 40 invocations, 11 errors = 27.5%)
    traffic.write(store)
    timeline = {k: moves(store, rules, recorder, k) for k in range(6, 16)}
    # THEN it fires, resolves, fires again within the cooldown without a notification, and closes once quiet
    assert timeline[7] == {("error_spike", "payments", "firing", True)}
    assert timeline[8] == {("error_spike", "payments", "resolved", True)}
    assert timeline[9] == {("error_spike", "payments", "firing", False)}
    assert timeline[10] == {("error_spike", "payments", "resolved", False)}
    assert timeline[11] == set()
    assert timeline[12] == {("error_spike", "payments", "ok", False)}
    assert [n.status for n in recorder.sent] == ["FIRING", "RESOLVED"]


def test_a_new_incident_after_the_cooldown_notifies_again(store: Store, rules: AlertConfig,
                                                          recorder: Recorder) -> None:
    traffic = Traffic()
    traffic.steady("payments", range(0, 20))
    traffic.minute_of("payments", 6, errors=10)
    traffic.minute_of("payments", 13, errors=10)
    traffic.write(store)
    notified = [m for k in range(6, 16) for m in moves(store, rules, recorder, k) if m[3]]
    assert notified == [("error_spike", "payments", "firing", True), ("error_spike", "payments", "resolved", True),
                        ("error_spike", "payments", "firing", True), ("error_spike", "payments", "resolved", True)]


def test_too_little_traffic_is_not_a_spike(store: Store, rules: AlertConfig, recorder: Recorder) -> None:
    # GIVEN a function with a handful of invocations a minute: 1 of 2 failing is 50%, but it is not judged
    traffic = Traffic()
    for k in range(0, 8):
        traffic.minute_of("rare", k, count=3, errors=1 if k == 6 else 0, colds=0)
    traffic.write(store)
    assert all(moves(store, rules, recorder, k) == set() for k in range(1, 9))
    evaluation = Evaluator(store, open_state_store(store), rules).evaluate(minute(7))
    finding = next(a.finding for a in evaluation.alerts if a.finding.rule == "error_spike")
    assert "too few to judge (min_invocations 10)" in finding.summary


def test_a_fixed_threshold_fires_without_a_baseline(store: Store, recorder: Recorder) -> None:
    from hoptrace_alerts.config import load

    rules = load("[defaults]\nwindow_s = 60\n[rules.error_spike]\nmin_invocations = 10\nthreshold = 0.3\n"
                 "[notify]\nstdout = false\n", environ={})
    traffic = Traffic()
    traffic.minute_of("brand-new", 0, errors=8)  # no baseline at all
    traffic.write(store)
    assert moves(store, rules, recorder, 1) == {("error_spike", "brand-new", "firing", True)}


def test_overrides_by_exact_name_and_glob(store: Store, recorder: Recorder) -> None:
    from hoptrace_alerts.config import load
    from tests.alerts.conftest import RULES_TOML

    rules = load(RULES_TOML + '[overrides."pay*".error_spike]\nenabled = false\n'
                 '[overrides."payments-eu".error_spike]\nenabled = true\n', environ={})
    traffic = Traffic()
    for function in ("payments", "payments-eu"):
        traffic.steady(function, range(0, 6))
        traffic.minute_of(function, 6, errors=10)
    traffic.write(store)
    assert moves(store, rules, recorder, 7) == {("error_spike", "payments-eu", "firing", True)}


def test_evaluating_the_same_moment_twice_moves_nothing_twice(store: Store, rules: AlertConfig, recorder: Recorder,
                                                              incidents: dict[str, list[str]]) -> None:
    first = moves(store, rules, recorder, 7)
    assert len(first) == 6
    assert moves(store, rules, recorder, 7) == set()
    assert moves(store, rules, recorder, 6.5) == set()  # an evaluator running behind cannot move alerts back
    assert len(recorder.sent) == 6


def test_two_evaluators_racing_store_and_notify_each_move_once(store: Store, rules: AlertConfig, recorder: Recorder,
                                                               incidents: dict[str, list[str]]) -> None:
    # GIVEN two evaluators that read the same states before either commits
    first = Evaluator(store, open_state_store(store), rules)
    second = Evaluator(store, open_state_store(store), rules)
    a, b = first.evaluate(minute(7)), second.evaluate(minute(7))
    assert len(a.changes) == len(b.changes) == 6
    # THEN only the first commit stores the moves; the second finds every alert moved already
    assert len(first.commit(a)) == 6
    assert second.commit(b) == []


def test_turning_a_rule_off_closes_its_open_incident_silently(store: Store, rules: AlertConfig, recorder: Recorder,
                                                             incidents: dict[str, list[str]]) -> None:
    from hoptrace_alerts.config import load
    from tests.alerts.conftest import RULES_TOML

    assert ("error_spike", "payments", "firing", True) in moves(store, rules, recorder, 7)
    muted = load(RULES_TOML + '[overrides."payments".error_spike]\nenabled = false\n', environ={})
    assert ("error_spike", "payments", "ok", False) in moves(store, muted, recorder, 7.5)
    # and a rule turned off for every function by a glob stays on for the one named exactly
    only_payments = load(RULES_TOML + '[overrides."*".error_spike]\nenabled = false\n'
                         '[overrides."payments".error_spike]\nenabled = true\n', environ={})
    assert only_payments.params_for("error_spike", "payments") is not None
    assert only_payments.params_for("error_spike", "signup") is None
