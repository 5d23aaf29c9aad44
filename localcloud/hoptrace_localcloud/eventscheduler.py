"""`AWS::Scheduler::Schedule` (EventBridge Scheduler; SAM `ScheduleV2`): rate/cron/at expressions, the templated
target's `Input` (or Scheduler's default notification), `RetryPolicy` and the schedule's `DeadLetterConfig`.

Delivery goes through `ruletargets.RuleTargets` like every EventBridge target; a delivery that fails is
retried `MaximumRetryAttempts` times, then sent to the DLQ with Scheduler's message attributes.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from .diagnostics import Diagnostics
from .ruletargets import RuleTargets
from .schedules import ScheduleError, Scheduler, next_fire_function

logger = logging.getLogger("hoptrace.localcloud")
TYPE = "AWS::Scheduler::Schedule"
_LOCAL_RETRY_CAP = 3  # AWS retries up to 185 times over 24 h; locally a few quick attempts show the behaviour


def default_notification(schedule_arn: str, account_id: str, region: str) -> dict[str, Any]:
    """What Scheduler sends a target when the schedule gives no `Input`."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.scheduler",
            "account": account_id, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": region,
            "resources": [schedule_arn], "detail": "{}"}


class EventSchedules:
    def __init__(self, targets: RuleTargets, scheduler: Scheduler, diagnostics: Diagnostics,
                 client: Callable[[str], Any], account_id: str, region: str, time_scale: float,
                 note: Callable[[str, str], None]) -> None:
        self._targets = targets
        self._scheduler = scheduler
        self._diag = diagnostics
        self._client = client
        self._account = account_id
        self._region = region
        self._scale = time_scale
        self._note = note

    def wire(self, logical_id: str, name: str, props: dict[str, Any]) -> None:
        if props.get("State") == "DISABLED":
            self._diag.unsupported(logical_id, "State", "the schedule is disabled in the template; it never fires")
            return
        if str(props.get("ScheduleExpressionTimezone", "UTC")) not in ("UTC", "Etc/UTC"):
            self._diag.unsupported(logical_id, "ScheduleExpressionTimezone", "schedules run in UTC locally")
        expression = str(props.get("ScheduleExpression", ""))
        try:
            next_fire = next_fire_function(expression, self._scale)
        except ScheduleError as exc:
            self._diag.unsupported(logical_id, "ScheduleExpression", f"{exc}; this schedule never fires")
            return
        target = dict(props.get("Target") or {})
        deliver = self._targets.delivery(logical_id, None, target, guarded=False)
        if deliver is None:
            return
        group = str(props.get("GroupName") or "default")
        arn = f"arn:aws:scheduler:{self._region}:{self._account}:schedule/{group}/{name}"
        retries = min(int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)), _LOCAL_RETRY_CAP)
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")

        def fire() -> None:
            event = None if "Input" in target else default_notification(arn, self._account, self._region)
            for attempt in range(1, retries + 2):
                try:
                    deliver(event if event is not None else {})
                    return
                except Exception as exc:  # the target refused: retry, then the DLQ
                    error = exc
                    if attempt <= retries:
                        time.sleep(0.1 * attempt)
            self._dead_letter(dlq, arn, group, target, event, error, retries + 1)

        self._scheduler.add(next_fire, fire)
        owner = str(target.get("Arn", "")).rsplit(":", 1)[-1]
        self._note(owner, f"Scheduler {expression}")

    def _dead_letter(self, dlq: str | None, arn: str, group: str, target: dict[str, Any], event: Any,
                     error: Exception, attempts: int) -> None:
        logger.warning("schedule %s: target %s not delivered after %d attempts: %s", arn, target.get("Arn"),
                       attempts, error)
        if not dlq:
            return
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=dlq.rsplit(":", 1)[-1])["QueueUrl"]
        body = target.get("Input") if "Input" in target else json.dumps(event)
        code = type(error).__name__

        def text(value: str) -> dict[str, str]:
            return {"DataType": "String", "StringValue": value}

        sqs.send_message(QueueUrl=url, MessageBody=str(body), MessageAttributes={
            "ERROR_CODE": text(code), "ERROR_MESSAGE": text(str(error)[:1000] or code),
            "TARGET_ARN": text(str(target.get("Arn", ""))), "X-Amz-Scheduler-Schedule-Arn": text(arn),
            "X-Amz-Scheduler-Group": text(group), "X-Amz-Scheduler-Attempt": text(str(attempts))})
