"""API Gateway WebSocket APIs: `$connect`, `$disconnect` and message routes.

The span is named after the route (`websocket $connect`, `websocket chat`); the connection id
ties the messages of one connection together.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "apigateway_websocket"


def matches(event: dict[str, Any]) -> bool:
    request = event.get("requestContext")
    return isinstance(request, dict) and "connectionId" in request and "eventType" in request


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    request = event["requestContext"]
    route = text(request.get("routeKey")) or "$default"
    identity = found if isinstance(found := request.get("identity"), dict) else {}
    finder = ContextFinder()
    finder.offer_mapping(event.get("headers") or {}, f"{NAME}.headers")
    attributes = {
        semconv.HTTP_ROUTE: route,
        semconv.OPERATION: text(request.get("eventType")),
        semconv.CLIENT_ADDRESS: text(identity.get("sourceIp")),
        semconv.SERVER_ADDRESS: text(request.get("domainName")),
        "hoptrace.websocket.connection_id": text(request.get("connectionId")),
        semconv.APIGATEWAY_API_ID: text(request.get("apiId")),
        semconv.APIGATEWAY_STAGE: text(request.get("stage")),
        semconv.APIGATEWAY_REQUEST_ID: text(request.get("requestId")),
    }
    invocation = simple_invocation(NAME, f"websocket {route}", "server", "http", attributes,
                                   finder.found, finder.problems)
    invocation.is_http = True
    return invocation
