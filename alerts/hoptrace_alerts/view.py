"""The read API the dashboard's Alerts page (and anything else) uses: rules, current states, history.

Plain frozen dataclasses, so a page turns a list of them into a DataFrame in one call
(`pandas.DataFrame(map(dataclasses.asdict, rows))`); every row carries `traces_query`, the
Traces page's query parameters for its example traces, so the page links with its own
navigation helper. Nothing here writes: `preview` evaluates now without storing anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hoptrace_alerts import config as alert_config
from hoptrace_alerts import links
from hoptrace_alerts.config import AlertConfig, ConfigError
from hoptrace_alerts.evaluator import Evaluation, Evaluator
from hoptrace_alerts.finding import Finding
from hoptrace_alerts.incidents import OK, Transition
from hoptrace_alerts.rules import RULES
from hoptrace_alerts.states import AlertStateStore, Run, open_state_store
from hoptrace_collector.store import Store

__all__ = ["AlertRow", "ConfigError", "RuleRow", "Run", "StateRow", "TransitionRow", "alert_rows", "evaluated_rules",
           "firing", "history", "last_run", "load_rules", "preview", "rules", "states"]


@dataclass(frozen=True)
class RuleRow:
    rule: str
    title: str
    per: str  # "function" | "queue"
    enabled: bool
    params: dict[str, Any]  # the effective fields for any function without an override
    docs: dict[str, str]  # field -> what it means
    overrides: tuple[str, ...]  # the patterns that change this rule for some functions (or queues)


@dataclass(frozen=True)
class AlertRow:
    """What every row about one alert carries: which alert, and the figures of its finding."""

    rule: str
    title: str
    subject: str  # a function, or for dlq_arrivals a queue
    function: str | None  # the function to name and link (a DLQ's consumer, when known)
    summary: str  # current vs baseline, with the counts behind both
    current: float | None
    baseline: float | None
    threshold: float | None
    unit: str  # "ratio" | "ms" | "messages" | "deaths" | "invocations"
    examples: tuple[str, ...]
    traces_query: dict[str, str]  # the Traces page's query parameters for the example traces


@dataclass(frozen=True)
class StateRow(AlertRow):
    state: str = OK  # "ok" | "firing" | "resolved"
    since_ns: int = 0
    incident_ns: int | None = None


@dataclass(frozen=True)
class TransitionRow(AlertRow):
    time_ns: int = 0
    from_state: str = OK
    to_state: str = OK
    notified: bool = False
    reason: str = ""
    delivery: dict[str, str] = field(default_factory=dict)  # channel -> "ok" or what went wrong


def load_rules(environ: Mapping[str, str] = os.environ) -> AlertConfig:
    """The rules the evaluator uses (HOPTRACE_ALERT_RULES, else the defaults); ConfigError when they are wrong."""
    return alert_config.load(None, environ)


def evaluated_rules(store: Store) -> AlertConfig | None:
    """The rules the evaluator used in its last run (None before its first): a reader of the store shows
    what is actually evaluated, whatever rules file its own process would find."""
    run = last_run(store)
    if run is None or not run.rules:
        return None
    return AlertConfig.from_rules_document(json.loads(run.rules))


def rules(config: AlertConfig | None = None) -> list[RuleRow]:
    config = config or AlertConfig()
    out = []
    for name, module in RULES.items():
        effective = config.rules[name]
        touched = tuple(o.pattern for o in config.overrides if name in o.rules or o.enabled is not None)
        out.append(RuleRow(name, module.TITLE, module.SUBJECT, effective["enabled"], dict(effective),
                           {k: p.doc for k, p in module.PARAMS.items()}, touched))
    return out


@contextmanager
def _reading(store: Store) -> Iterator[AlertStateStore]:
    """The alert state beside `store`, opened without creating anything, closed after use."""
    state_store = open_state_store(store, create=False)
    try:
        yield state_store
    finally:
        state_store.close()


def states(store: Store, include_ok: bool = False) -> list[StateRow]:
    """Stored alert states (by default only those not ok), firing first, then by rule and subject."""
    with _reading(store) as state_store:
        stored = state_store.states().values()
    rows = [_state_row(s.rule, s.subject, s.state, s.since_ns, s.incident_ns, Finding.from_dict(s.finding))
            for s in stored if include_ok or s.state != OK]
    order = {"firing": 0, "resolved": 1, "ok": 2}
    return sorted(rows, key=lambda r: (order.get(r.state, 3), r.rule, r.subject))


def firing(store: Store) -> list[StateRow]:
    """What is firing now, for the Overview's banner."""
    return [row for row in states(store) if row.state == "firing"]


def history(store: Store, *, since_ns: int | None = None, until_ns: int | None = None, rule: str | None = None,
            subject: str | None = None, limit: int = 200) -> list[TransitionRow]:
    """Every recorded transition in the range, newest first."""
    with _reading(store) as state_store:
        moves = state_store.history(since_ns=since_ns, until_ns=until_ns, rule=rule, subject=subject, limit=limit)
    return [_transition_row(t) for t in moves]


def last_run(store: Store) -> Run | None:
    """When the evaluator last ran (None: never), to tell "all quiet" from "nobody is watching"."""
    with _reading(store) as state_store:
        return state_store.last_run()


def preview(store: Store, config: AlertConfig | None = None, now_ns: int | None = None) -> list[StateRow]:
    """Every rule on every function as it stands now (current figures, where the state machine would go), stored
    nothing: what `hoptrace alerts check` prints."""
    with _reading(store) as state_store:
        evaluation = Evaluator(store, state_store, config or AlertConfig()).evaluate(now_ns)
    return alert_rows(evaluation)


def alert_rows(evaluation: Evaluation) -> list[StateRow]:
    """One row per alert of an evaluation: its state after the evaluation and its current figures."""
    return [_state_row(a.state.rule, a.state.subject, a.state.state, a.state.since_ns, a.state.incident_ns,
                       a.finding, evaluation.now_ns) for a in evaluation.alerts]


def _figures(rule: str, subject: str, finding: Finding, at_ns: int) -> dict[str, Any]:
    return {"rule": rule, "title": RULES[rule].TITLE, "subject": subject, "function": finding.function,
            "summary": finding.summary, "current": finding.current, "baseline": finding.baseline,
            "threshold": finding.threshold, "unit": finding.unit, "examples": finding.examples,
            "traces_query": links.traces_query(finding, at_ns)}


def _state_row(rule: str, subject: str, state: str, since_ns: int, incident_ns: int | None, finding: Finding,
               at_ns: int | None = None) -> StateRow:
    return StateRow(**_figures(rule, subject, finding, at_ns if at_ns is not None else since_ns), state=state,
                    since_ns=since_ns, incident_ns=incident_ns)


def _transition_row(t: Transition) -> TransitionRow:
    return TransitionRow(**_figures(t.rule, t.subject, t.finding, t.time_ns), time_ns=t.time_ns,
                         from_state=t.from_state, to_state=t.to_state, notified=t.notify, reason=t.reason,
                         delivery=t.delivery)
