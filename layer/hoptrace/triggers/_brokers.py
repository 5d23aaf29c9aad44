"""Context from broker message headers (Kafka, RabbitMQ, ActiveMQ) as Lambda hands them over.

Kafka headers arrive as `[{name: [byte, ...]}]`, RabbitMQ's as `{name: {"bytes": [...]}}` or plain
values, ActiveMQ properties as `{name: value}`. Only the trace headers are decoded, bounded in
size, so an odd or huge header costs nothing but its own problem note.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.triggers._messages import batch_invocation
from hoptrace.triggers.model import Invocation, Record

_WANTED = frozenset({"traceparent", "tracestate", "x-amzn-trace-id"})
_MAX_BYTES = 1024


def decoded(value: Any) -> str | None:
    """A header value as text: a str, a list of byte values, or RabbitMQ's {"bytes": [...]}."""
    if isinstance(value, dict):
        value = value.get("bytes")
    if isinstance(value, str):
        return value[:_MAX_BYTES]
    if isinstance(value, list) and len(value) <= _MAX_BYTES:
        try:
            return bytes(value).decode("utf-8", "replace")
        except (TypeError, ValueError):
            return None
    return None


def trace_headers(pairs: Any) -> dict[str, str]:
    """{name: text} of the trace headers among `pairs` (a mapping, or Kafka's list of one-key dicts)."""
    items: list[tuple[Any, Any]] = []
    if isinstance(pairs, dict):
        items = list(pairs.items())
    elif isinstance(pairs, list):
        items = [kv for entry in pairs if isinstance(entry, dict) for kv in entry.items()]
    found: dict[str, str] = {}
    for name, value in items:
        if isinstance(name, str) and name.lower() in _WANTED:
            text = decoded(value)
            if text is not None:
                found[name] = text
    return found


def finder_for(pairs: Any, source: str) -> ContextFinder:
    finder = ContextFinder()
    finder.offer_mapping(trace_headers(pairs), source)
    return finder


def broker_invocation(trigger: str, system: str, records: list[Record], problems: list[str],
                      event: dict[str, Any]) -> Invocation:
    """The batch invocation of an Amazon MQ broker's messages, named after the first message's queue."""
    queue = records[0].attributes[semconv.MESSAGING_DESTINATION] if records else "unknown"
    invocation = batch_invocation(trigger, system, queue, records)
    invocation.problems.extend(problems)
    if isinstance(event.get("eventSourceArn"), str):
        invocation.attributes[semconv.EVENT_SOURCE] = event["eventSourceArn"]
    return invocation
