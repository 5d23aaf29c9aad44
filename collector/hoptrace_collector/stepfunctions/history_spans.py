"""An execution's history → one span for the execution and one per state entry, in the caller's trace.

The execution span sits under the span that called StartExecution (the `Parent` of its `traceHeader`); each
state is a child of the execution or of the Parallel/Map state it ran in, found by following
`previousEventId`. Span ids come from `hoptrace.statespans`, so the Lambda tasks' own spans (parented by
the layer or the local cloud on the same ids) hang under their states. Retries and catches are span events;
a state entered through a Catch, and every state after it in the same branch, is marked as compensation.
Errors and their causes (a failed Lambda task's cause is its error message and stack as JSON) are
free text the collector stores, so they pass the layer's redaction (`hoptrace.redaction`) here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hoptrace import semconv
from hoptrace.redaction import redact_text
from hoptrace.statespans import execution_span_id, state_span_id
from hoptrace_collector.store.model import SpanRecord

_FAILURES = ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
             "LambdaFunctionStartFailed", "LambdaFunctionScheduleFailed", "TaskStartFailed", "TaskSubmitFailed")
_SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled")
_CONTAINER_OPENED = ("ParallelStateStarted", "MapIterationStarted", "MapStateStarted")
_CONTAINER_CLOSED = ("ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted", "MapStateSucceeded",
                     "MapStateFailed", "MapStateAborted", "MapIterationSucceeded", "MapIterationFailed",
                     "MapIterationAborted")
_FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def _ns(value: Any) -> int:
    if isinstance(value, datetime):  # microseconds rounded, never truncated: 19:42:21.984 must stay .984
        return round(value.timestamp() * 1_000_000) * 1000
    return round(float(value) * 1000) * 1_000_000  # epoch seconds (the JSON protocol), ms precision


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def trace_of(trace_header: str | None, execution_arn: str, start_ns: int) -> tuple[str, str | None]:
    """(trace id, parent span id) from the execution's X-Ray trace header; a trace of its own without one."""
    fields = dict(part.strip().partition("=")[::2] for part in (trace_header or "").split(";") if "=" in part)
    root = fields.get("Root", "").split("-")
    if len(root) == 3 and len(root[1]) == 8 and len(root[2]) == 24:
        parent = fields.get("Parent")
        return (root[1] + root[2]).lower(), parent.lower() if parent and len(parent) == 16 else None
    digest = hashlib.sha256(execution_arn.encode()).hexdigest()
    return f"{start_ns // 1_000_000_000:08x}{digest[:24]}", None


@dataclass
class _State:
    span_id: str
    parent_id: str
    name: str
    kind: str
    start_ns: int
    end_ns: int | None = None
    attempts: int = 0
    failure: tuple[str, str] | None = None
    caught: bool = False
    compensation: bool = False
    resource: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    def __init__(self, execution: dict[str, Any], trace_id: str) -> None:
        self.arn = str(execution["executionArn"])
        self.trace_id = trace_id
        self.root = execution_span_id(self.arn)
        self.states: list[_State] = []
        self.by_span: dict[str, _State] = {}
        self.owner: dict[int, _State | None] = {}  # event id -> the state it belongs to
        self.scope: dict[int, str] = {}  # event id -> the span a state entered after it is a child of
        self.compensating: set[str] = set()  # containers whose later states follow a catch
        self.last_ns = 0

    def add(self, event: dict[str, Any]) -> None:
        event_id, previous = int(event["id"]), int(event.get("previousEventId") or 0)
        kind, ts = str(event["type"]), _ns(event["timestamp"])
        self.last_ns = max(self.last_ns, ts)
        details = _details(event)
        owner = self.owner.get(previous)
        scope = self.scope.get(previous, self.root)
        if kind.endswith("StateEntered"):
            state = self._open(kind[: -len("StateEntered")], details.get("name", "?"), ts, scope, previous)
            self.owner[event_id], self.scope[event_id] = state, state.span_id
            return
        if kind.endswith("StateExited") or kind in _CONTAINER_CLOSED or kind in _CONTAINER_OPENED:
            owner = self._climb(owner, details.get("name"), kind)
        if owner is not None:
            self._record(owner, kind, ts, details)
        self.owner[event_id] = owner
        if kind.endswith("StateExited") and owner is not None:
            owner.end_ns = ts
            self.scope[event_id] = owner.parent_id
            if owner.caught:
                self.compensating.add(owner.parent_id)
        elif kind in _CONTAINER_OPENED and owner is not None:
            self.scope[event_id] = owner.span_id
        else:
            self.scope[event_id] = scope

    def _open(self, kind: str, name: str, ts: int, parent: str, previous: int) -> _State:
        span_id = state_span_id(self.arn, name, ts // 1_000_000)
        n = 1
        while span_id in self.by_span:  # two Map iterations entering one state in the same millisecond
            span_id, n = state_span_id(self.arn, f"{name}#{n}", ts // 1_000_000), n + 1
        previous_state = self.owner.get(previous)
        state = _State(span_id, parent, name, kind, ts)
        state.compensation = parent in self.compensating or bool(previous_state and previous_state.caught
                                                                 and previous_state.parent_id == parent)
        self.states.append(state)
        self.by_span[span_id] = state
        return state

    def _climb(self, state: _State | None, name: Any, kind: str) -> _State | None:
        """From the state an event follows, up to the state the event closes (a branch's last event is
        followed by its Parallel/Map's own Succeeded/Failed)."""
        want = "Map" if kind.startswith("Map") else "Parallel" if kind.startswith("Parallel") else None
        while state is not None:
            if (want is None or state.kind == want) and (name is None or state.name == name):
                return state
            state = self.by_span.get(state.parent_id)
        return None

    def _record(self, state: _State, kind: str, ts: int, details: dict[str, Any]) -> None:
        if kind in _SCHEDULED:
            state.attempts += 1
            state.resource = str(details.get("resource") or "")
            if state.attempts > 1:
                error, cause = state.failure or ("", "")
                state.events.append({"name": "retry", "time": ts, "attributes": {
                    semconv.SFN_RETRY_COUNT: state.attempts - 1, semconv.SFN_ERROR: error,
                    "hoptrace.sfn.cause": cause[:2048]}})
        elif kind in _FAILURES or kind.endswith("StateFailed"):
            error = redact_text(str(details.get("error") or kind))
            state.failure = (error, redact_text(str(details.get("cause") or "")))
            state.events.append({"name": kind, "time": ts, "attributes": {
                semconv.SFN_ERROR: error, "hoptrace.sfn.cause": state.failure[1][:2048]}})
        elif kind.endswith("StateExited") and state.failure is not None and state.kind in ("Task", "Parallel",
                                                                                            "Map"):
            last = state.events[-1]["name"] if state.events else ""
            if last in _FAILURES or last.endswith("StateFailed"):
                state.caught = True
                state.events.append({"name": "caught", "time": ts, "attributes": {
                    semconv.SFN_ERROR: state.failure[0]}})
        elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded"):
            state.failure = None  # a retry succeeded

    def spans(self, execution: dict[str, Any], parent_id: str | None, start_ns: int, end_ns: int,
              machine: str) -> list[SpanRecord]:
        status = str(execution.get("status", "RUNNING"))
        exec_error = redact_text(str(execution.get("error") or ""))
        exec_cause = redact_text(str(execution.get("cause") or ""))
        common = {semconv.SFN_EXECUTION_ARN: self.arn, semconv.SFN_STATE_MACHINE_ARN:
                  str(execution.get("stateMachineArn", ""))}
        resource = {semconv.SERVICE_NAME: machine, semconv.CLOUD_PROVIDER: "aws",
                    semconv.CLOUD_PLATFORM: "aws_step_functions"}
        failed = status in _FAILED_STATUSES
        records = [SpanRecord(
            trace_id=self.trace_id, span_id=self.root, parent_id=parent_id, name=f"{machine} execution",
            kind="internal", start_ns=start_ns, end_ns=end_ns, status="error" if failed else "ok",
            status_message=f"{exec_error}: {exec_cause}"[:1024] if failed else "",
            service=machine, function=machine, trigger=semconv.TRIGGER_STEPFUNCTIONS,
            attributes={**common, semconv.SFN_EXECUTION_STATUS: status,
                        **({semconv.SFN_ERROR: exec_error} if exec_error else {})},
            resource=resource, source="history", pending=status == "RUNNING")]
        for state in self.states:
            open_at_end = state.end_ns is None
            error = state.failure
            if open_at_end and failed and error is None:
                error = (exec_error, exec_cause)
            attributes: dict[str, Any] = {**common, semconv.SFN_STATE_NAME: state.name,
                                          semconv.SFN_STATE_TYPE: state.kind}
            if state.attempts:
                attributes[semconv.SFN_RETRY_COUNT] = max(0, state.attempts - 1)
            if state.resource:
                attributes[semconv.SFN_RESOURCE] = state.resource
            if state.compensation:
                attributes[semconv.SFN_COMPENSATION] = True
            if error is not None:
                attributes[semconv.SFN_ERROR] = error[0]
            records.append(SpanRecord(
                trace_id=self.trace_id, span_id=state.span_id, parent_id=state.parent_id, name=state.name,
                kind="internal", start_ns=state.start_ns, end_ns=state.end_ns or end_ns,
                status="error" if error is not None else "ok",
                status_message=f"{error[0]}: {error[1]}"[:1024] if error is not None else "",
                service=machine, function=machine, trigger=semconv.TRIGGER_STEPFUNCTIONS, attributes=attributes,
                events=state.events, resource=resource, source="history",
                pending=open_at_end and status == "RUNNING"))
        return records


def execution_spans(execution: dict[str, Any], events: list[dict[str, Any]]) -> list[SpanRecord]:
    """The spans of one execution from DescribeExecution's answer and its full history (oldest first)."""
    start_ns = _ns(execution["startDate"])
    ordered = sorted(events, key=lambda e: int(e["id"]))
    trace_id, parent_id = trace_of(execution.get("traceHeader"), str(execution["executionArn"]), start_ns)
    builder = _Builder(execution, trace_id)
    for event in ordered:
        builder.add(event)
    end_ns = _ns(execution["stopDate"]) if execution.get("stopDate") is not None else max(builder.last_ns, start_ns)
    machine = str(execution.get("stateMachineArn", "")).rsplit(":", 1)[-1] or "state machine"
    return builder.spans(execution, parent_id, start_ns, end_ns, machine)
