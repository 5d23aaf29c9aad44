"""EventBridge events delivered to a function by a rule.

EventBridge drops `PutEvents`' `TraceHeader` before the target, so the producer side
puts the W3C context in a reserved `_hoptrace` key of `detail`; that is read here.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.propagation import TRACEPARENT, TRACESTATE
from hoptrace.protocol import CARRIER_KEY
from hoptrace.triggers.model import Invocation

NAME = "eventbridge"
DETAIL_KEY = CARRIER_KEY


def matches(event: dict[str, Any]) -> bool:
    return "detail-type" in event and "source" in event and "detail" in event


def offer_detail_context(finder: ContextFinder, detail: Any, source: str) -> None:
    carried = detail.get(DETAIL_KEY) if isinstance(detail, dict) else None
    if isinstance(carried, dict):
        finder.offer_traceparent(carried.get(TRACEPARENT), source, carried.get(TRACESTATE))


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    finder = ContextFinder()
    offer_detail_context(finder, event.get("detail"), "eventbridge.detail")
    source, detail_type = str(event.get("source")), str(event.get("detail-type"))
    attributes: dict[str, Any] = {
        semconv.FAAS_TRIGGER: "pubsub",
        semconv.TRIGGER: NAME,
        semconv.MESSAGING_SYSTEM: "aws_eventbridge",
        semconv.MESSAGING_OPERATION: "process",
        semconv.MESSAGING_DESTINATION: detail_type,
        semconv.EVENTBRIDGE_SOURCE: source,
        semconv.EVENTBRIDGE_DETAIL_TYPE: detail_type,
    }
    if isinstance(event.get("id"), str):
        attributes[semconv.MESSAGING_MESSAGE_ID] = event["id"]
    return Invocation(trigger=NAME, name=f"process {detail_type}", kind="consumer",
                      attributes=attributes, parent=finder.found, problems=finder.problems)
