"""API Gateway Lambda authorizers: TOKEN and REQUEST, REST (v1) and HTTP API (v2 payload).

Tried before the HTTP triggers: a REQUEST authorizer event carries the request's method, path
and headers, but the function decides on access, it does not serve the request, so its span is
`authorize <method> <path>` and never the API's own span. The caller's trace context is read
from the request headers so the authorizer sits inside the request's trace. The token itself is
never recorded.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "apigateway_authorizer"
_TYPES = frozenset({"TOKEN", "REQUEST"})


def matches(event: dict[str, Any]) -> bool:
    kind = event.get("type")
    return isinstance(kind, str) and kind in _TYPES and ("methodArn" in event or "routeArn" in event)


def _method_and_path(arn: Any) -> tuple[str, str]:
    """`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>` -> (METHOD, /path)."""
    if not isinstance(arn, str):
        return "ANY", "/"
    parts = arn.split(":", 5)[-1].split("/", 3)
    method = parts[2] if len(parts) > 2 and parts[2] else "ANY"
    return method, "/" + (parts[3] if len(parts) > 3 else "")


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    kind = event["type"]
    request = found if isinstance(found := event.get("requestContext"), dict) else {}
    http = found if isinstance(found := request.get("http"), dict) else {}
    arn_method, arn_path = _method_and_path(event.get("methodArn") or event.get("routeArn"))
    route_key = event.get("routeKey")
    method = text(event.get("httpMethod")) or text(http.get("method")) or arn_method
    path = text(event.get("resource")) or (route_key.split(" ", 1)[-1] if isinstance(route_key, str) else None) \
        or arn_path
    finder = ContextFinder()
    finder.offer_mapping(event.get("headers") or {}, f"{NAME}.headers")
    attributes = {
        semconv.AUTHORIZER_TYPE: kind,
        semconv.HTTP_METHOD: method.upper(),
        semconv.HTTP_ROUTE: path,
        semconv.EVENT_SOURCE: text(event.get("methodArn") or event.get("routeArn"), 512),
        semconv.APIGATEWAY_API_ID: text(request.get("apiId")),
        semconv.APIGATEWAY_STAGE: text(request.get("stage")),
        semconv.APIGATEWAY_REQUEST_ID: text(request.get("requestId")),
        "hoptrace.authorizer.payload_version": text(event.get("version")) or "1.0",
    }
    return simple_invocation(NAME, f"authorize {method.upper()} {path}", "server", "http", attributes,
                             finder.found, finder.problems)
