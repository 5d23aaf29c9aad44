"""Lambda Invoke: `ClientContext.custom` for synchronous calls, which is where Lambda hands it on.

Asynchronous invokes (`InvocationType=Event`) drop ClientContext, so there the context goes
into a `_hoptrace` key of a JSON-object payload; any other payload is left untouched.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hoptrace import health
from hoptrace.propagation import TRACEPARENT
from hoptrace.triggers.invoke import PAYLOAD_KEY

MAX_CLIENT_CONTEXT = 3583  # bytes of base64, the API's limit


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
