"""Alert state in the span store's DynamoDB table, under keys that start with `ALERT#`.

| item | pk | sk |
|---|---|---|
| an alert's state | `ALERT#STATE` | `<rule>#<function or queue>` |
| a transition | `ALERT#LOG#<UTC day>` | `<time ns, 20 digits>#<rule>#<function or queue>` |
| the last evaluation | `ALERT#RUN` | `last` |

All states share one partition, so `states()` is one Query (a few hundred small items at most);
transitions are partitioned by day, so the history of a time range is one Query per day,
newest first, filtered by rule or subject when asked (transitions are rare: a handful a day).
None of these items carries the span index's attributes (`g1pk`, `g1sk`, `t`), so the span
store's listings and its retention scan never see them; transitions get the store's `expires`
TTL, states do not (an open incident must outlive any retention).

A move is one TransactWriteItems: the state, conditioned on the version it was read at, and
the transition, conditioned on not existing yet. A concurrent evaluator's transaction is
cancelled instead of recording (and notifying) the same move twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from hoptrace_alerts.incidents import AlertState, Transition
from hoptrace_alerts.states import Change, Run, encode_finding, transition_fields, transition_from
from hoptrace_collector.store import StoreError

STATE_PK, RUN_PK, LOG_PREFIX = "ALERT#STATE", "ALERT#RUN", "ALERT#LOG#"
DAY_NS = 86_400 * 1_000_000_000
HISTORY_DAYS = 31  # how far back history() walks when no `since` is given


def log_key(t: Transition) -> dict[str, Any]:
    return {"pk": {"S": f"{LOG_PREFIX}{t.time_ns // DAY_NS}"},
            "sk": {"S": f"{t.time_ns:020d}#{t.rule}#{t.subject}"}}


class DynamoStateStore:
    def __init__(self, io: Any, ttl_days: float = 0.0) -> None:
        self.io = io  # hoptrace_collector.store.dynamodb_io.DynamoCalls: retries, errors as StoreError
        self.ttl_days = ttl_days

    def states(self) -> dict[tuple[str, str], AlertState]:
        out = {}
        for item in self.io.query(KeyConditionExpression="pk = :p", ConsistentRead=True,
                                  ExpressionAttributeValues={":p": {"S": STATE_PK}}):
            state = AlertState(rule=item["rule"]["S"], subject=item["subject"]["S"], state=item["state"]["S"],
                               since_ns=int(item["since"]["N"]),
                               incident_ns=int(item["incident"]["N"]) if "incident" in item else None,
                               resolved_notified=item["rnotified"]["BOOL"], version=int(item["version"]["N"]),
                               finding=json.loads(item["finding"]["S"]))
            out[(state.rule, state.subject)] = state
        return out

    def apply(self, changes: Sequence[Change]) -> list[Transition]:
        from botocore.exceptions import ClientError

        applied = []
        for old, new, transition in changes:
            stored = replace(new, version=old.version + 1)
            state_put: dict[str, Any] = {"TableName": self.io.table, "Item": self._state_item(stored)}
            if old.version == 0:
                state_put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                state_put["ConditionExpression"] = "version = :v"
                state_put["ExpressionAttributeValues"] = {":v": {"N": str(old.version)}}
            log_put = {"TableName": self.io.table, "Item": self._log_item(transition),
                       "ConditionExpression": "attribute_not_exists(pk)"}
            try:
                self.io.call("transact_write_items", TransactItems=[{"Put": state_put}, {"Put": log_put}])
            except StoreError as exc:
                cause = exc.__cause__
                if isinstance(cause, ClientError) and cause.response["Error"]["Code"] in (
                        "TransactionCanceledException", "ConditionalCheckFailedException"):
                    continue  # another evaluator moved this alert since we read it
                raise
            applied.append(transition)
        return applied

    def record_delivery(self, transition: Transition, delivery: dict[str, str]) -> None:
        self.io.call("update_item", TableName=self.io.table, Key=log_key(transition),
                     UpdateExpression="SET delivery = :d",
                     ExpressionAttributeValues={":d": {"S": json.dumps(delivery, sort_keys=True)}})

    def history(self, *, since_ns: int | None = None, until_ns: int | None = None, rule: str | None = None,
                subject: str | None = None, limit: int = 200) -> list[Transition]:
        out: list[Transition] = []
        for item in self._log_items(since_ns, until_ns):
            if (rule is None or item["rule"]["S"] == rule) and (subject is None or item["subject"]["S"] == subject):
                out.append(transition_from(self._fields(item)))
                if len(out) >= limit:
                    break
        return out

    def record_run(self, run: Run) -> None:
        self.io.call("put_item", TableName=self.io.table, Item={
            "pk": {"S": RUN_PK}, "sk": {"S": "last"}, "at": {"N": str(run.time_ns)},
            "evaluated": {"N": str(run.evaluated)}, "firing": {"N": str(run.firing)},
            "transitions": {"N": str(run.transitions)}, "duration_ms": {"N": repr(run.duration_ms)},
            "rules": {"S": run.rules}})

    def last_run(self) -> Run | None:
        item = self.io.call("get_item", TableName=self.io.table, ConsistentRead=True,
                            Key={"pk": {"S": RUN_PK}, "sk": {"S": "last"}}).get("Item")
        if item is None:
            return None
        return Run(int(item["at"]["N"]), int(item["evaluated"]["N"]), int(item["firing"]["N"]),
                   int(item["transitions"]["N"]), float(item["duration_ms"]["N"]), item.get("rules", {}).get("S", ""))

    def close(self) -> None:
        """The client belongs to the span store, which closes it."""

    # -- items -----------------------------------------------------------------------------------------
    @staticmethod
    def _state_item(state: AlertState) -> dict[str, Any]:
        item = {"pk": {"S": STATE_PK}, "sk": {"S": f"{state.rule}#{state.subject}"}, "rule": {"S": state.rule},
                "subject": {"S": state.subject}, "state": {"S": state.state}, "since": {"N": str(state.since_ns)},
                "rnotified": {"BOOL": state.resolved_notified}, "version": {"N": str(state.version)},
                "finding": {"S": encode_finding(state.finding)}}
        if state.incident_ns is not None:
            item["incident"] = {"N": str(state.incident_ns)}
        return item

    def _log_item(self, transition: Transition) -> dict[str, Any]:
        fields = transition_fields(transition)
        item: dict[str, Any] = {**log_key(transition), "rule": {"S": fields["rule"]},
                                "subject": {"S": fields["subject"]}, "at": {"N": str(fields["time_ns"])},
                                "from": {"S": fields["from_state"]}, "to": {"S": fields["to_state"]},
                                "notify": {"BOOL": fields["notify"]}, "reason": {"S": fields["reason"]},
                                "finding": {"S": fields["finding"]}, "delivery": {"S": fields["delivery"]}}
        if fields["incident_ns"] is not None:
            item["incident"] = {"N": str(fields["incident_ns"])}
        if self.ttl_days > 0:
            item["expires"] = {"N": str(int(transition.time_ns / 1e9 + self.ttl_days * 86_400))}
        return item

    @staticmethod
    def _fields(item: dict[str, Any]) -> dict[str, Any]:
        return {"rule": item["rule"]["S"], "subject": item["subject"]["S"], "time_ns": int(item["at"]["N"]),
                "from_state": item["from"]["S"], "to_state": item["to"]["S"], "notify": item["notify"]["BOOL"],
                "reason": item["reason"]["S"], "incident_ns": int(item["incident"]["N"]) if "incident" in item
                else None, "finding": item["finding"]["S"], "delivery": item["delivery"]["S"]}

    def _log_items(self, since_ns: int | None, until_ns: int | None) -> Iterator[dict[str, Any]]:
        high = until_ns if until_ns is not None else time.time_ns()
        low = since_ns if since_ns is not None else high - HISTORY_DAYS * DAY_NS
        for day in range(high // DAY_NS, low // DAY_NS - 1, -1):
            yield from self.io.query(
                KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi", ScanIndexForward=False,
                ExpressionAttributeValues={":p": {"S": f"{LOG_PREFIX}{day}"}, ":lo": {"S": f"{max(low, 0):020d}"},
                                           ":hi": {"S": f"{high:020d}#~"}})
