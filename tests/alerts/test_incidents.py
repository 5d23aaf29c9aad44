"""The state machine alone: every move of the table in hoptrace_alerts.incidents, and who gets notified."""

from __future__ import annotations

import pytest

from hoptrace_alerts.finding import Finding
from hoptrace_alerts.incidents import FIRING, OK, RESOLVED, AlertState, step

S = 1_000_000_000
BAD = Finding(rule="error_spike", subject="f", breached=True, summary="bad")
GOOD = Finding(rule="error_spike", subject="f", breached=False, summary="good")


@pytest.mark.parametrize(("state", "finding", "now_s", "to", "notify"), [
    (AlertState("error_spike", "f"), GOOD, 10, None, None),
    (AlertState("error_spike", "f"), BAD, 10, FIRING, True),
    (AlertState("error_spike", "f", FIRING, 0, 0), BAD, 10, None, None),
    (AlertState("error_spike", "f", FIRING, 0, 0), GOOD, 10, RESOLVED, True),
    (AlertState("error_spike", "f", FIRING, 0, 0, resolved_notified=True), GOOD, 10, RESOLVED, False),
    (AlertState("error_spike", "f", RESOLVED, 100 * S, 0), BAD, 159, FIRING, False),  # within the 60 s cooldown
    (AlertState("error_spike", "f", RESOLVED, 100 * S, 0), BAD, 160, FIRING, True),  # a new incident
    (AlertState("error_spike", "f", RESOLVED, 100 * S, 0), GOOD, 159, None, None),
    (AlertState("error_spike", "f", RESOLVED, 100 * S, 0), GOOD, 160, OK, False),
])
def test_moves(state: AlertState, finding: Finding, now_s: int, to: str | None, notify: bool | None) -> None:
    new, transition = step(state, finding, now_s * S, cooldown_s=60)
    if to is None:
        assert transition is None and new == state
        return
    assert transition is not None
    assert (new.state, transition.to_state, transition.from_state, transition.notify) == (to, to, state.state, notify)
    assert new.since_ns == transition.time_ns == now_s * S and transition.finding == finding


def test_an_incident_keeps_its_start_through_flapping_and_a_new_one_starts_afresh() -> None:
    state = AlertState("error_spike", "f")
    verdicts = [(BAD, 0), (GOOD, 10), (BAD, 20), (GOOD, 30), (GOOD, 90), (BAD, 200)]
    seen = []
    for finding, at in verdicts:
        state, transition = step(state, finding, at * S, cooldown_s=60)
        seen.append((state.state, state.incident_ns, transition.notify if transition else None))
    assert seen == [(FIRING, 0, True), (RESOLVED, 0, True), (FIRING, 0, False), (RESOLVED, 0, False),
                    (OK, 0, False), (FIRING, 200 * S, True)]
    assert not state.resolved_notified  # the new incident will announce its resolution again


def test_resolutions_can_be_left_unannounced() -> None:
    _, transition = step(AlertState("error_spike", "f", FIRING, 0, 0), GOOD, S, 60, notify_resolved=False)
    assert transition is not None and transition.to_state == RESOLVED and not transition.notify
