"""Alert state and transitions, kept in the span store itself: whoever can read the spans sees the alerts.

`open_state_store(store)` picks the backend from the span store's URL: for `sqlite://` two
tables in the same database file, for `dynamodb://` items in the same table under keys that
start with `ALERT#` (see each module for its layout). Both offer the same small interface:

- `states()`: every alert's current state;
- `apply(changes)`: store (old, new, transition) triples, each only if the alert is still at
  the old version, and return the transitions that were stored. A second evaluator running at
  the same moment therefore cannot record (or notify) the same move twice;
- `record_delivery(transition, delivery)`: how sending its notification went;
- `history(...)`: transitions, newest first (equal times: rule, then subject, descending);
- `record_run` / `last_run`: the evaluator's heartbeat.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hoptrace_alerts.finding import Finding
from hoptrace_alerts.incidents import AlertState, Transition
from hoptrace_collector.store import Store, StoreError

Change = tuple[AlertState, AlertState, Transition]  # (state it was read at, state after, the move)


@dataclass(frozen=True)
class Run:
    """One evaluation, for "is the evaluator alive?": when, how many alerts, how many firing, how long."""

    time_ns: int
    evaluated: int
    firing: int
    transitions: int
    duration_ms: float
    rules: str = ""  # AlertConfig.rules_document() as JSON: what was evaluated


class AlertStateStore(Protocol):
    def states(self) -> dict[tuple[str, str], AlertState]: ...

    def apply(self, changes: Sequence[Change]) -> list[Transition]: ...

    def record_delivery(self, transition: Transition, delivery: dict[str, str]) -> None: ...

    def history(self, *, since_ns: int | None = None, until_ns: int | None = None, rule: str | None = None,
                subject: str | None = None, limit: int = 200) -> list[Transition]: ...

    def record_run(self, run: Run) -> None: ...

    def last_run(self) -> Run | None: ...

    def close(self) -> None: ...


def open_state_store(store: Store, create: bool = True) -> AlertStateStore:
    """The state store that lives beside `store` (same SQLite file, or same DynamoDB table).

    Readers pass `create=False` so that looking at a store never changes it (no SQLite tables are
    created before the evaluator's first run; DynamoDB items need nothing created anyway).
    """
    scheme = store.url.split("://", 1)[0].lower() if "://" in store.url else "sqlite"
    if scheme == "sqlite":
        from hoptrace_alerts.states.sqlite import SqliteStateStore
        from hoptrace_collector.store.sqlite import path_from_url

        return SqliteStateStore(path_from_url(store.url.split("?", 1)[0]), create=create)
    if scheme == "dynamodb":
        from hoptrace_alerts.states.dynamodb import DynamoStateStore

        io = getattr(store, "io", None)
        if io is None:
            raise StoreError(f"store {store.url!r} is not a DynamoStore: cannot keep alert state beside it")
        return DynamoStateStore(io, ttl_days=getattr(store, "ttl_days", 0.0))
    raise StoreError(f"no alert state store for {store.url!r}: use a sqlite:// or dynamodb:// store")


def encode_finding(finding: Finding | dict[str, Any]) -> str:
    data = finding.as_dict() if isinstance(finding, Finding) else finding
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def transition_fields(t: Transition) -> dict[str, Any]:
    """A transition's columns/attributes, shared by both backends."""
    return {"rule": t.rule, "subject": t.subject, "time_ns": t.time_ns, "from_state": t.from_state,
            "to_state": t.to_state, "notify": t.notify, "reason": t.reason, "incident_ns": t.incident_ns,
            "finding": encode_finding(t.finding), "delivery": json.dumps(t.delivery, sort_keys=True)}


def transition_from(fields: dict[str, Any]) -> Transition:
    return Transition(rule=fields["rule"], subject=fields["subject"], time_ns=int(fields["time_ns"]),
                      from_state=fields["from_state"], to_state=fields["to_state"], notify=bool(fields["notify"]),
                      reason=fields["reason"], incident_ns=None if fields["incident_ns"] is None
                      else int(fields["incident_ns"]), finding=Finding.from_dict(json.loads(fields["finding"])),
                      delivery=json.loads(fields["delivery"] or "{}"))

