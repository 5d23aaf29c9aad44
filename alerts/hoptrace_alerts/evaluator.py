"""One evaluation: every rule over every function (or queue), stepped through each alert's state machine.

`evaluate(now_ns)` only reads (the store and the stored states) and returns what would change;
`commit` stores the moves and returns those that were stored; notifying is the caller's
choice (`run_once` does all three, the CLI without `--notify` only the first). Given the store's
contents, the stored states and `now_ns`, the result is always the same, so tests pin `now`.

An alert whose state changed at or after `now_ns` is left alone: a scheduled event delivered
twice, or an evaluator running behind another, cannot move it backwards or twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hoptrace_alerts.config import AlertConfig
from hoptrace_alerts.facts import Facts
from hoptrace_alerts.finding import Finding
from hoptrace_alerts.incidents import FIRING, OK, AlertState, Transition, close, step
from hoptrace_alerts.notify import Channel, deliver
from hoptrace_alerts.rules import RULES
from hoptrace_alerts.states import AlertStateStore, Change, Run
from hoptrace_collector.store import Store


@dataclass(frozen=True)
class Alert:
    """One rule on one subject after this evaluation: its verdict and where its state machine now stands."""

    finding: Finding
    state: AlertState
    transition: Transition | None = None


@dataclass
class Evaluation:
    now_ns: int
    alerts: list[Alert] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.state.state == FIRING]

    @property
    def transitions(self) -> list[Transition]:
        return [t for _old, _new, t in self.changes]


class Evaluator:
    def __init__(self, store: Store, states: AlertStateStore, config: AlertConfig,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.states = states
        self.config = config
        self.clock = clock

    def evaluate(self, now_ns: int | None = None) -> Evaluation:
        started = time.perf_counter()
        now_ns = self.clock() if now_ns is None else now_ns
        facts = Facts(self.store, now_ns, self.config.lag_s)
        stored = self.states.states()
        result = Evaluation(now_ns)
        for name, rule in RULES.items():
            # Subjects with an open state are judged even when the store no longer lists them, so they resolve.
            subjects = dict.fromkeys(rule.subjects(facts, self.config.rules[name]))
            subjects.update(dict.fromkeys(s for (r, s), st in stored.items() if r == name and st.state != OK))
            for subject in subjects:
                p = self.config.params_for(name, subject)
                state = stored.get((name, subject)) or AlertState(name, subject)
                if p is None:  # the rule is off for this subject: an open incident is closed, silently
                    if state.state != OK and state.since_ns < now_ns:
                        result.changes.append(close(state, now_ns))
                    continue
                finding = rule.evaluate(facts, subject, p, state.state == FIRING)
                if state.since_ns >= now_ns:
                    result.alerts.append(Alert(finding, state))
                    continue
                new, transition = step(state, finding, now_ns, p["cooldown_s"], self.config.notify["notify_resolved"])
                if transition is not None:
                    result.changes.append((state, new, transition))
                result.alerts.append(Alert(finding, new, transition))
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    def commit(self, evaluation: Evaluation) -> list[Transition]:
        """Store the evaluation's moves and heartbeat; the transitions returned are the ones this call stored."""
        applied = self.states.apply(evaluation.changes) if evaluation.changes else []
        self.states.record_run(Run(evaluation.now_ns, len(evaluation.alerts), len(evaluation.firing),
                                   len(applied), round(evaluation.duration_ms, 3),
                                   json.dumps(self.config.rules_document(), separators=(",", ":"))))
        return applied


def run_once(evaluator: Evaluator, targets: Sequence[Channel], now_ns: int | None = None) -> tuple[
        Evaluation, list[Transition]]:
    """Evaluate, store the moves, notify the ones that ask for it, and store how each delivery went.

    Notifications go out after the move is stored, and only for moves this run stored, so two
    evaluators racing send each notification once (at most once: a crash between the two
    loses it, which the stored transition's empty delivery then shows).
    """
    evaluation = evaluator.evaluate(now_ns)
    applied = evaluator.commit(evaluation)
    for transition in applied:
        if transition.notify and targets:
            delivery = deliver(transition, evaluator.config.dashboard_url, targets)
            evaluator.states.record_delivery(transition, delivery)
    return evaluation, applied
