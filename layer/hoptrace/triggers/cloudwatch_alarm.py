"""CloudWatch alarm actions invoking a function (`source: aws.cloudwatch`, `alarmData`)."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "cloudwatch_alarm"


def matches(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.cloudwatch" and isinstance(event.get("alarmData"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    data = event["alarmData"]
    name = text(data.get("alarmName")) or "alarm"
    state = found if isinstance(found := data.get("state"), dict) else {}
    previous = found if isinstance(found := data.get("previousState"), dict) else {}
    attributes = {semconv.OPERATION: text(state.get("value")), semconv.EVENT_SOURCE: text(event.get("alarmArn"), 512),
                  "hoptrace.alarm.previous_state": text(previous.get("value")), semconv.FAAS_TIME: text(
                      event.get("time"))}
    return simple_invocation(NAME, f"alarm {name}", "consumer", "pubsub", attributes)
