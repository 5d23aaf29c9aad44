"""The Step Functions API operations the local cloud answers (forwarded from moto by `hooks.py`), in AWS's
JSON protocol: `X-Amz-Target: AWSStepFunctions.<Operation>`, errors as `{"__type", "message"}`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .service import TERMINAL, ApiError, StepFunctionsService

PREFIX = "AWSStepFunctions."
OPERATIONS = ("StartExecution", "StartSyncExecution", "DescribeExecution", "GetExecutionHistory", "StopExecution",
              "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "ListExecutions")
TARGETS = tuple(PREFIX + name for name in OPERATIONS)
Response = tuple[int, dict[str, Any]]


def handlers(service: StepFunctionsService) -> dict[str, Callable[[dict[str, Any]], Response]]:
    """`{X-Amz-Target: handler}` for `HookServer.register`."""
    operations = _Operations(service)
    return {PREFIX + name: _guarded(getattr(operations, _snake(name))) for name in OPERATIONS}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _guarded(operation: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], Response]:
    def call(request: dict[str, Any]) -> Response:
        try:
            return 200, operation(request)
        except ApiError as error:
            return 400, {"__type": f"com.amazonaws.sfn#{error.code}", "message": error.message}
        except KeyError as missing:
            return 400, {"__type": "com.amazonaws.sfn#ValidationException",
                         "message": f"1 validation error detected: {missing.args[0]} must not be null"}

    return call


class _Operations:
    def __init__(self, service: StepFunctionsService) -> None:
        self.s = service

    def start_execution(self, r: dict[str, Any]) -> dict[str, Any]:
        execution = self.s.start(r["stateMachineArn"], r.get("name"), r.get("input"), r.get("traceHeader"))
        return {"executionArn": execution.arn, "startDate": execution.start}

    def start_sync_execution(self, r: dict[str, Any]) -> dict[str, Any]:
        execution = self.s.start(r["stateMachineArn"], r.get("name"), r.get("input"), r.get("traceHeader"))
        execution.done.wait()
        described = execution.describe()
        described["billingDetails"] = {"billedMemoryUsedInMB": 64,
                                       "billedDurationInMilliseconds": int(((execution.stop_time or 0) -
                                                                            execution.start) * 1000)}
        return described

    def describe_execution(self, r: dict[str, Any]) -> dict[str, Any]:
        return self.s.execution(r["executionArn"]).describe()

    def get_execution_history(self, r: dict[str, Any]) -> dict[str, Any]:
        execution = self.s.execution(r["executionArn"])
        events, token = execution.run.history.page(r.get("maxResults") or 1000, r.get("nextToken"),
                                                   bool(r.get("reverseOrder")), r.get("includeExecutionData", True))
        return {"events": events, **({"nextToken": token} if token else {})}

    def stop_execution(self, r: dict[str, Any]) -> dict[str, Any]:
        execution = self.s.stop(r["executionArn"], r.get("error"), r.get("cause"))
        return {"stopDate": execution.stop_time}

    def send_task_success(self, r: dict[str, Any]) -> dict[str, Any]:
        try:
            output = json.loads(r["output"])
        except ValueError:
            raise ApiError("InvalidOutput", "the task output is not valid JSON") from None
        self.s.send_task_result(r["taskToken"], True, output)
        return {}

    def send_task_failure(self, r: dict[str, Any]) -> dict[str, Any]:
        self.s.send_task_result(r["taskToken"], False, (r.get("error") or "", r.get("cause") or ""))
        return {}

    def send_task_heartbeat(self, r: dict[str, Any]) -> dict[str, Any]:
        self.s.heartbeat(r["taskToken"])
        return {}

    def list_executions(self, r: dict[str, Any]) -> dict[str, Any]:
        arn, status = r.get("stateMachineArn"), r.get("statusFilter")
        rows = [e for e in list(self.s.executions.values()) if (not arn or e.machine.arn == arn)
                and (not status or e.status == status)]
        rows.sort(key=lambda e: e.start, reverse=True)
        return {"executions": [{"executionArn": e.arn, "stateMachineArn": e.machine.arn, "name": e.name,
                                "status": e.status, "startDate": e.start,
                                **({"stopDate": e.stop_time} if e.status in TERMINAL else {})} for e in rows]}
