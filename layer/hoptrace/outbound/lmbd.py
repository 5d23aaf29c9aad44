"""Lambda Invoke: `ClientContext.custom` for synchronous calls, which is where Lambda hands it on.

Asynchronous invokes (`InvocationType=Event`) drop ClientContext, so there the context goes
into a `_hoptrace` key of a JSON-object payload; any other payload is left untouched.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from hoptrace import health, semconv
from hoptrace.outbound.names import function_name
from hoptrace.propagation import TRACEPARENT
from hoptrace.triggers.invoke import PAYLOAD_KEY

MAX_CLIENT_CONTEXT = 3583  # bytes of base64, the API's limit


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    if "FunctionName" not in params:
        return {}
    attributes: dict[str, Any] = {semconv.FAAS_INVOKED_NAME: function_name(params["FunctionName"]),
                                  semconv.FAAS_INVOKED_PROVIDER: "aws"}
    if operation == "Invoke":
        attributes[semconv.AWS_LAMBDA_INVOCATION_TYPE] = str(params.get("InvocationType") or "RequestResponse")
    return attributes


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    """A function that raised answers 200 with `FunctionError`: worth seeing on the caller's span."""
    error = response.get("FunctionError")
    return {semconv.AWS_LAMBDA_FUNCTION_ERROR: str(error)} if error else {}


def invoke(params: dict[str, Any], traceparent: str, xray: str) -> None:
    if params.get("InvocationType") == "Event":
        _inject_payload(params, traceparent)
    else:
        _inject_client_context(params, traceparent)


def _inject_client_context(params: dict[str, Any], traceparent: str) -> None:
    raw = params.get("ClientContext")
    client_context: Any = {}
    if raw:
        try:
            client_context = json.loads(base64.b64decode(raw))
        except ValueError:
            return
    if not isinstance(client_context, dict):
        return
    custom = client_context.setdefault("custom", {})
    if not isinstance(custom, dict) or TRACEPARENT in custom:
        return
    custom[TRACEPARENT] = traceparent
    encoded = base64.b64encode(json.dumps(client_context, separators=(",", ":")).encode()).decode()
    if len(encoded) > MAX_CLIENT_CONTEXT:
        health.skipped("lambda.client_context_limit", "a Lambda ClientContext would pass 3,583 bytes")
        return
    params["ClientContext"] = encoded


def _inject_payload(params: dict[str, Any], traceparent: str) -> None:
    raw = params.get("Payload")
    if not isinstance(raw, str | bytes | bytearray):
        return
    try:
        payload = json.loads(raw)  # bytes are decoded by json itself; invalid UTF-8 is a ValueError
    except ValueError:
        return
    if isinstance(payload, dict) and PAYLOAD_KEY not in payload:
        payload[PAYLOAD_KEY] = {TRACEPARENT: traceparent}
        params["Payload"] = json.dumps(payload, separators=(",", ":"))
