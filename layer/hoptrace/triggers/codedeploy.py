"""CodeDeploy lifecycle hooks (`DeploymentId`, `LifecycleEventHookExecutionId`)."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "codedeploy"


def matches(event: dict[str, Any]) -> bool:
    return "DeploymentId" in event and "LifecycleEventHookExecutionId" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    deployment = text(event.get("DeploymentId")) or "deployment"
    attributes = {semconv.OPERATION: "lifecycle hook", "hoptrace.codedeploy.deployment_id": deployment}
    return simple_invocation(NAME, f"codedeploy hook {deployment}", "server", "other", attributes)
