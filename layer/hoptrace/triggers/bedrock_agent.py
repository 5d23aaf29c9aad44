"""Amazon Bedrock agent action groups (`agent`, `actionGroup`): API-schema and function forms.

The user's input text is personal data and never recorded.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "bedrock_agent"


def matches(event: dict[str, Any]) -> bool:
    return isinstance(event.get("agent"), dict) and "actionGroup" in event and "messageVersion" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    agent = text(event["agent"].get("name")) or "agent"
    group = text(event.get("actionGroup")) or "actions"
    if isinstance(event.get("apiPath"), str):
        action = f"{(text(event.get('httpMethod')) or 'GET').upper()} {event['apiPath'][:256]}"
    else:
        action = text(event.get("function")) or "function"
    attributes = {semconv.OPERATION: action, "hoptrace.bedrock.agent": agent, "hoptrace.bedrock.action_group": group}
    return simple_invocation(NAME, f"agent {group} {action}", "server", "other", attributes)
