"""API Gateway HTTP API (payload format 2.0) events, and Lambda function URLs (same shape)."""

from __future__ import annotations

from typing import Any

from hoptrace.config import Config
from hoptrace.triggers._http import api_attributes, http_invocation
from hoptrace.triggers.model import Invocation


def matches(event: dict[str, Any]) -> bool:
    request = event.get("requestContext")
    return event.get("version") == "2.0" and isinstance(request, dict) and isinstance(request.get("http"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    request = event["requestContext"]
    http = request["http"]
    domain = request.get("domainName")
    is_url = isinstance(domain, str) and ".lambda-url." in domain
    route_key = event.get("routeKey")
    route = None
    if isinstance(route_key, str) and " " in route_key:
        route = route_key.split(" ", 1)[1]
    invocation = http_invocation(
        "function_url" if is_url else "apigateway_http",
        http.get("method"),
        route or http.get("path"),
        http.get("path") or event.get("rawPath"),
        event.get("rawQueryString") or "",
        event.get("headers"),
        http.get("sourceIp"),
        config,
    )
    api_attributes(invocation, request)
    return invocation
