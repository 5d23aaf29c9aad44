"""CloudFormation custom resources (`RequestType` Create/Update/Delete with a `ResponseURL`).

The presigned `ResponseURL` is a credential and is never recorded.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "cloudformation"


def matches(event: dict[str, Any]) -> bool:
    return "RequestType" in event and "ResponseURL" in event and "StackId" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    request = text(event.get("RequestType")) or "Unknown"
    resource = text(event.get("LogicalResourceId")) or "resource"
    attributes = {semconv.OPERATION: request, semconv.EVENT_SOURCE: text(event.get("StackId"), 512),
                  "hoptrace.cloudformation.resource_type": text(event.get("ResourceType")),
                  "hoptrace.cloudformation.logical_id": resource,
                  "hoptrace.cloudformation.request_id": text(event.get("RequestId"))}
    return simple_invocation(NAME, f"{request} {resource}", "server", "other", attributes)
