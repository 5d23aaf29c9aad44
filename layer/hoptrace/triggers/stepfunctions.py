"""A Lambda task of a Step Functions state machine whose input carries the context object (`$$`).

Step Functions passes no context of its own to a task except `_X_AMZN_TRACE_ID` (with tracing on); state
machines commonly hand the task parts of the context object through Parameters. Recognised shapes:
the whole context object (`"Payload.$": "$$"`), under a key (`"context.$": "$$"`, also `Context`, `sfn`,
`$$`), or flat fields (`"executionId.$": "$$.Execution.Id"`, `stateName`, `enteredTime`, `retryCount`, in
camelCase, PascalCase or snake_case). With the execution, state name and entered time known, the parent is
that state's span — the id the collector gives it when it rebuilds the execution from its history — in the
trace named by `_X_AMZN_TRACE_ID`.
"""

from __future__ import annotations

import os
import re
from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.propagation import Carried, parse_xray
from hoptrace.statespans import entered_ms, state_span_id
from hoptrace.triggers.model import Invocation

NAME = "stepfunctions"
_EXECUTION_ARN = re.compile(r"^arn:aws[\w-]*:states:[\w-]+:\d{12}:(?:execution|express):[^:]+:[^:]+")
_CONTEXT_KEYS = ("context", "Context", "sfn", "$$", "stepfunctions", "StepFunctions")
_FLAT = {
    "execution": ("executionId", "ExecutionId", "execution_id", "executionArn", "ExecutionArn", "execution_arn"),
    "state": ("stateName", "StateName", "state_name"),
    "entered": ("enteredTime", "EnteredTime", "entered_time", "stateEnteredTime", "StateEnteredTime"),
    "retry": ("retryCount", "RetryCount", "retry_count"),
    "machine": ("stateMachineId", "StateMachineId", "state_machine_id", "stateMachineArn", "StateMachineArn"),
}


def _is_execution(value: Any) -> bool:
    return isinstance(value, str) and len(value) < 2048 and _EXECUTION_ARN.match(value) is not None


def _context_object(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    execution = value.get("Execution")
    if isinstance(execution, dict) and _is_execution(execution.get("Id")) and isinstance(value.get("State"), dict):
        return value
    return None


def _fields(event: dict[str, Any]) -> dict[str, Any] | None:
    """{execution, state, entered, retry, machine} from the first recognised shape, or None."""
    context = _context_object(event) or next(
        (found for key in _CONTEXT_KEYS if (found := _context_object(event.get(key))) is not None), None)
    if context is not None:
        state = context["State"]
        machine = context.get("StateMachine")
        return {"execution": context["Execution"]["Id"], "state": state.get("Name"),
                "entered": state.get("EnteredTime"), "retry": state.get("RetryCount"),
                "machine": machine.get("Id") if isinstance(machine, dict) else None}
    execution = next((event[k] for k in _FLAT["execution"] if k in event), None)
    if not _is_execution(execution):
        return None
    return {field: next((event[k] for k in keys if k in event), None) for field, keys in _FLAT.items()}


def matches(event: dict[str, Any]) -> bool:
    return _fields(event) is not None


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    fields = _fields(event) or {}
    attributes: dict[str, Any] = {semconv.FAAS_TRIGGER: "other", semconv.TRIGGER: NAME,
                                  semconv.SFN_EXECUTION_ARN: fields.get("execution")}
    if isinstance(fields.get("state"), str):
        attributes[semconv.SFN_STATE_NAME] = fields["state"][:256]
    if isinstance(fields.get("retry"), int) and not isinstance(fields.get("retry"), bool):
        attributes[semconv.SFN_RETRY_COUNT] = fields["retry"]
    if isinstance(fields.get("machine"), str):
        attributes[semconv.SFN_STATE_MACHINE_ARN] = fields["machine"][:2048]
    problems: list[str] = []
    parent, problem = parse_xray(os.environ.get("_X_AMZN_TRACE_ID"), "stepfunctions.lambda-env") \
        if os.environ.get("_X_AMZN_TRACE_ID") else (None, None)
    if problem:
        problems.append(problem)
    entered = entered_ms(fields["entered"]) if isinstance(fields.get("entered"), str) else None
    if parent is not None and entered is not None and isinstance(fields.get("state"), str):
        span = int(state_span_id(fields["execution"], fields["state"], entered), 16)
        parent = Carried(parent.trace_id, span, parent.sampled, "stepfunctions.context")
    name = getattr(context, "function_name", None) or "stepfunctions task"
    return Invocation(trigger=NAME, name=str(name), kind="server", attributes=attributes, parent=parent,
                      problems=problems)
