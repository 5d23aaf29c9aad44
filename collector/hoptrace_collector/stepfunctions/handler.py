"""`hoptrace_collector.stepfunctions.handler.handler`: an EventBridge rule on "Step Functions Execution
Status Change" (source `aws.states`) invokes it; for each finished execution it reads DescribeExecution and
GetExecutionHistory and stores the execution's spans. Also accepts `{"executionArn": ...}` directly.

Needs `states:DescribeExecution` and `states:GetExecutionHistory` on the state machines it follows. Express
workflows keep no history on AWS (their logs do); they are skipped with a counted reason.
"""

from __future__ import annotations

import logging
from typing import Any

from hoptrace_collector.config import CollectorConfig
from hoptrace_collector.stepfunctions.history_spans import execution_spans
from hoptrace_collector.store import Store, open_store

logger = logging.getLogger("hoptrace.collector")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
_STORE: Store | None = None
_CLIENT: Any = None


def _store() -> Store:
    global _STORE
    if _STORE is None:
        _STORE = open_store(CollectorConfig.from_env().store_url)
    return _STORE


def _client() -> Any:
    global _CLIENT
    if _CLIENT is None:
        import boto3

        _CLIENT = boto3.client("stepfunctions")
    return _CLIENT


def collect(execution_arn: str, client: Any, store: Store) -> int:
    """Store the spans of one execution; returns how many were written."""
    execution = client.describe_execution(executionArn=execution_arn)
    events: list[dict[str, Any]] = []
    for page in client.get_paginator("get_execution_history").paginate(executionArn=execution_arn,
                                                                       includeExecutionData=False):
        events.extend(page["events"])
    spans = execution_spans(execution, events)
    store.write(spans=spans)
    return len(spans)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """One status-change event (or `{"executionArn"}`): the counts of what was stored and skipped."""
    detail = event.get("detail") if isinstance(event, dict) and isinstance(event.get("detail"), dict) else event
    if not isinstance(detail, dict) or not isinstance(detail.get("executionArn"), str):
        return {"spans": 0, "skipped": "no executionArn in the event"}
    arn = detail["executionArn"]
    if detail.get("status") and detail["status"] not in TERMINAL:
        return {"spans": 0, "skipped": f"{arn} is {detail['status']}; spans are built when it ends"}
    if ":express:" in arn:
        return {"spans": 0, "skipped": f"{arn} is an Express execution: Step Functions keeps no history for it"}
    written = collect(arn, _client(), _store())
    logger.info("stored %d spans of %s", written, arn)
    return {"spans": written, "executionArn": arn}
