"""Secrets Manager rotation steps (`SecretId`, `ClientRequestToken`, `Step`).

The step (createSecret, setSecret, testSecret, finishSecret) names the span; the token is a
credential-adjacent id and is not recorded.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import name_from_arn, simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "secrets_manager"


def matches(event: dict[str, Any]) -> bool:
    return "SecretId" in event and "ClientRequestToken" in event and "Step" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    step = text(event.get("Step")) or "rotate"
    secret = name_from_arn(event.get("SecretId"))
    attributes = {semconv.OPERATION: step, semconv.EVENT_SOURCE: text(event.get("SecretId"), 512)}
    return simple_invocation(NAME, f"rotate {secret} {step}", "server", "other", attributes)
