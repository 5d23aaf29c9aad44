"""SNS/SQS message attributes as a carrier, with the 10-attribute limit checked here only."""

from __future__ import annotations

from typing import Any

from hoptrace import health
from hoptrace.propagation import TRACEPARENT

MAX_ATTRIBUTES = 10


def inject(entry: dict[str, Any], traceparent: str, where: str) -> None:
    """Add `traceparent` to `entry["MessageAttributes"]` unless present or over the limit."""
    attributes = entry.get("MessageAttributes")
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        return
    if any(str(name).lower() == TRACEPARENT for name in attributes):
        return
    if len(attributes) >= MAX_ATTRIBUTES:
        health.skipped(f"{where}.attribute_limit",
                       f"a {where} message already has {len(attributes)} message attributes (AWS allows 10)")
        return
    attributes[TRACEPARENT] = {"DataType": "String", "StringValue": traceparent}
    entry["MessageAttributes"] = attributes


def inject_entries(params: dict[str, Any], key: str, traceparent: str, where: str) -> None:
    """The batch form of `inject`: each entry of `params[key]` is its own message."""
    for entry in params.get(key) or ():
        if isinstance(entry, dict):
            inject(entry, traceparent, where)
