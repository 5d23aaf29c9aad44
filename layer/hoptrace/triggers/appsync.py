"""AppSync direct Lambda resolvers (`info.fieldName`, `arguments`): `Mutation.createSomething`.

Arguments and identity claims are user data and never recorded; the request headers carry
the caller's trace context.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "appsync"


def matches(event: dict[str, Any]) -> bool:
    info = event.get("info")
    return isinstance(info, dict) and "fieldName" in info and "arguments" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    info = event["info"]
    operation = f"{info.get('parentTypeName') or 'Query'}.{info.get('fieldName')}"[:256]
    request = found if isinstance(found := event.get("request"), dict) else {}
    finder = ContextFinder()
    finder.offer_mapping(request.get("headers") or {}, "appsync.headers")
    headers = found if isinstance(found := request.get("headers"), dict) else {}
    attributes = {semconv.OPERATION: operation, semconv.RPC_METHOD: operation,
                  semconv.SERVER_ADDRESS: text(headers.get("host"))}
    return simple_invocation(NAME, f"graphql {operation}", "server", "http", attributes,
                             finder.found, finder.problems)
