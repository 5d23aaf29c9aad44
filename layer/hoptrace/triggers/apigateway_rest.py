"""API Gateway REST API (payload format 1.0) proxy events."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hoptrace.config import Config
from hoptrace.triggers._http import api_attributes, first_values, http_invocation
from hoptrace.triggers.model import Invocation

NAME = "apigateway"


def matches(event: dict[str, Any]) -> bool:
    return "httpMethod" in event and "resource" in event and isinstance(event.get("requestContext"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    request = event.get("requestContext") or {}
    identity = found if isinstance(found := request.get("identity"), dict) else {}
    params = event.get("queryStringParameters")
    query = urlencode(params) if isinstance(params, dict) else ""
    invocation = http_invocation(
        NAME,
        event.get("httpMethod"),
        event.get("resource"),
        event.get("path"),
        query,
        event.get("headers") or first_values(event.get("multiValueHeaders")),
        identity.get("sourceIp"),
        config,
    )
    api_attributes(invocation, request)
    return invocation
