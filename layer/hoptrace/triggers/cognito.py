"""Cognito user pool triggers (`triggerSource`: PreSignUp_SignUp, PostConfirmation_*, TokenGeneration_*, ...).

User attributes are personal data and never recorded; the trigger source and pool are.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "cognito"


def matches(event: dict[str, Any]) -> bool:
    return isinstance(event.get("triggerSource"), str) and "userPoolId" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    source = event["triggerSource"][:128]
    caller = found if isinstance(found := event.get("callerContext"), dict) else {}
    attributes = {semconv.OPERATION: source, semconv.EVENT_SOURCE: text(event.get("userPoolId")),
                  "hoptrace.cognito.client_id": text(caller.get("clientId"))}
    return simple_invocation(NAME, f"cognito {source}", "server", "other", attributes)
