"""Direct `Invoke` (and any event shape no other trigger claims): never an error.

Context comes from `ClientContext.custom` (synchronous invokes), then a `_hoptrace` key
in a JSON-object payload (asynchronous invokes, which drop ClientContext), then a
`headers` object in the payload (what stock OpenTelemetry's botocore hook writes).
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.protocol import CARRIER_KEY
from hoptrace.triggers.model import Invocation

NAME = "invoke"
PAYLOAD_KEY = CARRIER_KEY


def matches(event: Any) -> bool:
    return True


def extract(event: Any, context: Any, config: Config) -> Invocation:
    finder = ContextFinder()
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None)
    if isinstance(custom, dict):
        finder.offer_mapping(custom, "invoke.ClientContext")
    if isinstance(event, dict):
        carried = event.get(PAYLOAD_KEY)
        if isinstance(carried, dict):
            finder.offer_mapping(carried, "invoke.payload")
        headers = event.get("headers")
        if isinstance(headers, dict):
            finder.offer_mapping(headers, "invoke.payload.headers")
    attributes = {semconv.FAAS_TRIGGER: "other", semconv.TRIGGER: NAME}
    name = getattr(context, "function_name", None) or "invoke"
    return Invocation(trigger=NAME, name=str(name), kind="server", attributes=attributes,
                      parent=finder.found, problems=finder.problems)
