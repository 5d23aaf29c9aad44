"""Application Load Balancer target events (single- or multi-value headers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._http import first_values, http_invocation
from hoptrace.triggers.model import Invocation


def matches(event: dict[str, Any]) -> bool:
    request = event.get("requestContext")
    return isinstance(request, dict) and isinstance(request.get("elb"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    params = event.get("queryStringParameters")
    if not isinstance(params, dict):
        params = first_values(event.get("multiValueQueryStringParameters"))
    headers = event.get("headers") or first_values(event.get("multiValueHeaders"))
    invocation = http_invocation(
        "alb", event.get("httpMethod"), event.get("path"), event.get("path"),
        urlencode(params) if params else "", headers, None, config,
    )
    target = event["requestContext"]["elb"].get("targetGroupArn")
    if isinstance(target, str):
        invocation.attributes[semconv.ALB_TARGET_GROUP] = target
    return invocation
