"""AppSync Lambda authorizers (`authorizationToken` + `requestContext.operationName`).

The token is a credential and the query's variables are user data: only the API and the
operation name are recorded.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "appsync_authorizer"


def matches(event: dict[str, Any]) -> bool:
    request = event.get("requestContext")
    return "authorizationToken" in event and isinstance(request, dict) and "operationName" in request


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    request = event["requestContext"]
    operation = text(request.get("operationName")) or "operation"
    attributes = {semconv.AUTHORIZER_TYPE: "APPSYNC", semconv.RPC_METHOD: operation,
                  "hoptrace.appsync.api_id": text(request.get("apiId")),
                  "hoptrace.appsync.request_id": text(request.get("requestId"))}
    return simple_invocation(NAME, f"authorize graphql {operation}", "server", "http", attributes)
