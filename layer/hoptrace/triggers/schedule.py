"""Scheduled events (EventBridge rules and Scheduler with `rate()`/`cron()`): always a new trace."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers.model import Invocation

NAME = "schedule"


_SOURCES = frozenset({"aws.events", "aws.scheduler"})


def matches(event: dict[str, Any]) -> bool:
    source = event.get("source")
    return event.get("detail-type") == "Scheduled Event" and isinstance(source, str) and source in _SOURCES


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    resources = event.get("resources")
    rule = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], str) else ""
    attributes: dict[str, Any] = {semconv.FAAS_TRIGGER: "timer", semconv.TRIGGER: NAME}
    if rule:
        attributes[semconv.CLOUD_RESOURCE_ID] = rule
    if isinstance(event.get("time"), str):
        attributes[semconv.FAAS_TIME] = event["time"]
    name = f"schedule {rule.rsplit('/', 1)[-1]}" if rule else "schedule"
    return Invocation(trigger=NAME, name=name, kind="server", attributes=attributes)
