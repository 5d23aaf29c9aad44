"""Shared by the HTTP-shaped triggers (REST API, HTTP API, function URL, ALB)."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder, lower_keys
from hoptrace.config import Config
from hoptrace.redaction import redact_header, redact_query_string
from hoptrace.triggers.model import Invocation


def redact_query(query: Any, config: Config) -> str:
    """Query strings carry api keys and tokens as often as headers do."""
    return redact_query_string(query, config.redacted_keys)


def http_invocation(
    trigger: str,
    method: Any,
    route: Any,
    path: Any,
    query: str,
    headers: Any,
    source_ip: Any,
    config: Config,
) -> Invocation:
    lowered = lower_keys(headers)
    finder = ContextFinder()
    finder.offer_mapping(lowered, f"{trigger}.headers")
    method = str(method or "GET").upper()
    route = str(route or path or "/")
    attributes: dict[str, Any] = {
        semconv.FAAS_TRIGGER: "http",
        semconv.TRIGGER: trigger,
        semconv.HTTP_METHOD: method,
        semconv.HTTP_ROUTE: route,
        semconv.URL_PATH: str(path or "/"),
    }
    if query:
        attributes[semconv.URL_QUERY] = redact_query(query, config)
    for name, key in (("host", semconv.SERVER_ADDRESS), ("user-agent", semconv.USER_AGENT)):
        value = lowered.get(name)
        if isinstance(value, str):
            attributes[key] = value
    if isinstance(source_ip, str):
        attributes[semconv.CLIENT_ADDRESS] = source_ip
    if config.capture_payload:
        for name, value in lowered.items():
            attributes[semconv.HTTP_REQUEST_HEADER + name] = redact_header(name, value, config.redacted_headers)
    return Invocation(
        trigger=trigger,
        name=f"{method} {route}",
        kind="server",
        attributes=attributes,
        parent=finder.found,
        problems=finder.problems,
        is_http=True,
    )


def first_values(multi: Any) -> dict[str, Any]:
    if not isinstance(multi, dict):
        return {}
    return {k: v[0] for k, v in multi.items() if isinstance(v, list) and v}


def api_attributes(invocation: Invocation, request: dict[str, Any]) -> None:
    for key, attribute in (("apiId", semconv.APIGATEWAY_API_ID), ("stage", semconv.APIGATEWAY_STAGE),
                           ("requestId", semconv.APIGATEWAY_REQUEST_ID)):
        value = request.get(key)
        if isinstance(value, str):
            invocation.attributes[attribute] = value
