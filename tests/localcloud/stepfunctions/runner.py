"""Runs a definition in-process against fake Lambda functions: the interpreter without moto or workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hoptrace_localcloud.stepfunctions import definition
from hoptrace_localcloud.stepfunctions.errors import StatesError
from hoptrace_localcloud.stepfunctions.history import now_ms
from hoptrace_localcloud.stepfunctions.interpreter import Interpreter, Run
from hoptrace_localcloud.stepfunctions.tasks import TaskRunner

ARN = "arn:aws:states:us-east-1:123456789012:execution:Machine:run-1"


class Functions:
    """Fake Lambda functions by name: each a callable(event) that returns or raises."""

    def __init__(self, **functions: Callable[[Any], Any]) -> None:
        self.functions = functions
        self.calls: list[tuple[str, Any, str | None]] = []

    def __call__(self, name: str, event: Any, trace: str | None) -> tuple[Any, dict[str, Any] | None, str]:
        name = name.rsplit(":function:", 1)[-1].split(":")[0]
        self.calls.append((name, event, trace))
        try:
            return self.functions[name](event), None, f"req-{len(self.calls)}"
        except Exception as exc:
            return None, {"errorType": type(exc).__name__, "errorMessage": str(exc)}, f"req-{len(self.calls)}"


def run(asl: dict[str, Any], data: Any, functions: Functions | None = None, client: Any = None,
        time_scale: float = 0.001) -> tuple[str, Any, Run]:
    """("SUCCEEDED", output, run) or ("FAILED", StatesError, run)."""
    parsed = definition.parse(asl)
    tasks = TaskRunner("us-east-1", functions or Functions(), client or (lambda service: None))
    the_run = Run(ARN, "run-1", data, now_ms(), "arn:aws:iam::123456789012:role/r",
                  "arn:aws:states:us-east-1:123456789012:stateMachine:Machine", "Machine", tasks,
                  lambda state, entered: None, time_scale)
    the_run.history.add("ExecutionStarted", 0, {"input": "{}"})
    try:
        return "SUCCEEDED", Interpreter(parsed, the_run).execute(), the_run
    except StatesError as error:
        return "FAILED", error, the_run


def types(the_run: Run) -> list[str]:
    return [event["type"] for event in the_run.history.events]
