"""Step Functions StartExecution / StartSyncExecution: context in the `traceHeader` parameter (X-Ray format),
which Step Functions hands on to its Lambda tasks as `_X_AMZN_TRACE_ID` when tracing is enabled, and shows
in DescribeExecution, where the collector finds the execution's place in the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import semconv

MAX_TRACE_HEADER = 256  # the API's limit
_EXECUTION_OPERATIONS = frozenset({"DescribeExecution", "GetExecutionHistory", "StopExecution",
                                   "RedriveExecution"})


def start_execution(params: dict[str, Any], traceparent: str, xray: str) -> None:
    """Set `traceHeader` unless the caller chose one (theirs wins, as everywhere in the layer)."""
    if params.get("traceHeader") or len(xray) > MAX_TRACE_HEADER:
        return
    params["traceHeader"] = xray


start_sync_execution = start_execution


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    if operation in ("StartExecution", "StartSyncExecution"):
        arn = params.get("stateMachineArn")
        return {semconv.SFN_STATE_MACHINE_ARN: arn} if isinstance(arn, str) else {}
    if operation in _EXECUTION_OPERATIONS:
        arn = params.get("executionArn")
        return {semconv.SFN_EXECUTION_ARN: arn} if isinstance(arn, str) else {}
    return {}


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if operation in ("StartExecution", "StartSyncExecution") and isinstance(response.get("executionArn"), str):
        attributes[semconv.SFN_EXECUTION_ARN] = response["executionArn"]
    if isinstance(response.get("status"), str):
        attributes[semconv.SFN_EXECUTION_STATUS] = response["status"]
    if isinstance(response.get("error"), str):
        attributes[semconv.SFN_ERROR] = response["error"]
    return attributes
