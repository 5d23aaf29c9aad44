"""Trigger registry: which AWS service invoked the function, and what it carried.

Each module here reads one event shape and exposes `matches(event)` and
`extract(event, context, config)`. They are tried in the explicit order of `TRIGGERS`
and the first match wins, so shapes that overlap (ALB vs REST API, schedule vs
EventBridge) are decided by position, never by whichever check ran last.
"""

from __future__ import annotations

from typing import Any

from hoptrace.config import Config
from hoptrace.triggers import (
    alb,
    apigateway_http,
    apigateway_rest,
    cloudwatch_logs,
    eventbridge,
    invoke,
    schedule,
    sns,
    sqs,
)
from hoptrace.triggers.model import Invocation, Record

TRIGGERS = (alb, apigateway_http, apigateway_rest, sqs, sns, schedule, eventbridge, cloudwatch_logs)

__all__ = ["TRIGGERS", "Invocation", "Record", "detect"]


def detect(event: Any, context: Any, config: Config) -> Invocation:
    """The first trigger that claims the event describes it; anything else is a direct invoke."""
    if isinstance(event, dict):
        for trigger in TRIGGERS:
            if trigger.matches(event):
                return trigger.extract(event, context, config)
    return invoke.extract(event, context, config)
