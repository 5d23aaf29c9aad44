"""SNS/SQS message attributes as a carrier, with the 10-attribute limit checked here only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import health, semconv
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


def sent_ids(single: bool, response: Mapping[str, Any]) -> dict[str, Any]:
    """The message id(s) SQS/SNS gave a send (one, or every `Successful` entry of a batch): what the
    consumer's record carries as its own id, so the two spans can be joined."""
    if single:
        return {semconv.MESSAGING_MESSAGE_ID: str(response["MessageId"])} if response.get("MessageId") else {}
    ids = [str(e["MessageId"]) for e in response.get("Successful") or ()
           if isinstance(e, Mapping) and e.get("MessageId")]
    return {semconv.MESSAGE_IDS: ids} if ids else {}
