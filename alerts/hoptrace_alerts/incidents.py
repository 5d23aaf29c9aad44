"""Each alert's state machine: ok -> firing -> resolved (-> ok), with a cooldown so one incident notifies once.

An alert is one rule applied to one function (or queue). The moves:

| from | verdict | to | notified |
|---|---|---|---|
| ok | breached | firing (an incident opens) | yes: FIRING |
| firing | not breached | resolved | yes: RESOLVED, the first time in the incident (`notify_resolved`) |
| resolved | breached, within `cooldown_s` of the resolution | firing | no: the same incident flapping |
| resolved | breached, after the cooldown | firing (a new incident) | yes: FIRING |
| resolved | not breached for `cooldown_s` | ok (the incident is closed) | no |

Every move is a `Transition`, stored with the finding that caused it. `step` is a pure function
of the previous state, the verdict and the time, so evaluations are deterministic given `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hoptrace_alerts.finding import Finding

OK, FIRING, RESOLVED = "ok", "firing", "resolved"
NS = 1_000_000_000


@dataclass(frozen=True)
class AlertState:
    rule: str
    subject: str
    state: str = OK
    since_ns: int = 0  # when it entered this state
    incident_ns: int | None = None  # when the open (or last) incident began
    resolved_notified: bool = False  # the incident's RESOLVED notification went out already
    version: int = 0  # bumped on every stored change: two evaluators cannot both move one alert
    finding: dict[str, Any] = field(default_factory=dict)  # the finding of the last transition


@dataclass(frozen=True)
class Transition:
    rule: str
    subject: str
    time_ns: int
    from_state: str
    to_state: str
    notify: bool
    reason: str
    incident_ns: int | None
    finding: Finding
    delivery: dict[str, str] = field(default_factory=dict)  # channel -> "ok" or what went wrong

    @property
    def key(self) -> tuple[str, str, int]:
        return self.rule, self.subject, self.time_ns


def step(state: AlertState, finding: Finding, now_ns: int, cooldown_s: float,
         notify_resolved: bool = True) -> tuple[AlertState, Transition | None]:
    """The alert's next state for this verdict, and the transition when it moved."""
    breached, cooldown_ns = finding.breached, int(cooldown_s * NS)
    if state.state == OK and breached:
        moved, transition = _move(state, finding, now_ns, FIRING, True, "the condition holds: an incident opens",
                                  now_ns)
        return replace(moved, resolved_notified=False), transition
    if state.state == FIRING and not breached:
        notify = notify_resolved and not state.resolved_notified
        moved, transition = _move(state, finding, now_ns, RESOLVED, notify, "the condition no longer holds",
                                  state.incident_ns)
        return replace(moved, resolved_notified=state.resolved_notified or notify), transition
    if state.state == RESOLVED and breached:
        if now_ns - state.since_ns < cooldown_ns:
            return _move(state, finding, now_ns, FIRING, False,
                         f"breached again within the {cooldown_s:g} s cooldown: the same incident, not notified again",
                         state.incident_ns)
        moved, transition = _move(state, finding, now_ns, FIRING, True,
                                  "breached after the cooldown: a new incident opens", now_ns)
        return replace(moved, resolved_notified=False), transition
    if state.state == RESOLVED and now_ns - state.since_ns >= cooldown_ns:
        return _move(state, finding, now_ns, OK, False, f"quiet for the {cooldown_s:g} s cooldown: incident closed",
                     state.incident_ns)
    return state, None


def close(state: AlertState, now_ns: int) -> tuple[AlertState, AlertState, Transition]:
    """(old, new, transition) for an alert whose rule was turned off while it was open: back to ok, nobody told."""
    finding = Finding(rule=state.rule, subject=state.subject, breached=False,
                      summary="the rule is off for this subject")
    new, transition = _move(state, finding, now_ns, OK, False, "the rule was turned off", state.incident_ns)
    return state, new, transition


def _move(state: AlertState, finding: Finding, now_ns: int, to: str, notify: bool, reason: str,
          incident_ns: int | None) -> tuple[AlertState, Transition]:
    moved = replace(state, state=to, since_ns=now_ns, incident_ns=incident_ns, finding=finding.as_dict())
    return moved, Transition(rule=state.rule, subject=state.subject, time_ns=now_ns, from_state=state.state,
                             to_state=to, notify=notify, reason=reason, incident_ns=incident_ns, finding=finding)
