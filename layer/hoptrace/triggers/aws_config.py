"""AWS Config custom rules (`configRuleName`, `invokingEvent`): change-triggered or periodic.

`invokingEvent` is a JSON string; only its `messageType` is read, by a bounded search rather
than a parse (it can be an oversized configuration item).
"""

from __future__ import annotations

import re
from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "aws_config"
_MESSAGE_TYPE = re.compile(r'"messageType"\s*:\s*"([A-Za-z]{1,64})"')


def matches(event: dict[str, Any]) -> bool:
    return "configRuleName" in event and "invokingEvent" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    rule = text(event.get("configRuleName")) or "rule"
    invoking = event.get("invokingEvent")
    found = _MESSAGE_TYPE.search(invoking[-4096:]) if isinstance(invoking, str) else None
    if found is None and isinstance(invoking, str):
        found = _MESSAGE_TYPE.search(invoking[:4096])
    message_type = found.group(1) if found else None
    periodic = message_type == "ScheduledNotification"
    attributes = {semconv.OPERATION: message_type, semconv.EVENT_SOURCE: text(event.get("configRuleArn"), 512),
                  "hoptrace.config.rule": rule}
    return simple_invocation(NAME, f"config rule {rule}", "server", "timer" if periodic else "datasource",
                             attributes)
