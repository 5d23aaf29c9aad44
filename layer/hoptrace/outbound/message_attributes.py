"""SNS/SQS message attributes as a carrier, with the 10-attribute limit checked here only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hoptrace import health, semconv
from hoptrace.outbound.entries import inject_each
from hoptrace.propagation import TRACEPARENT

MAX_ATTRIBUTES = 10


def carrier(traceparent: str) -> dict[str, str]:
    """The `traceparent` message attribute's value, as SQS and SNS take it."""
    return {"DataType": "String", "StringValue": traceparent}


# `MessageAttributes={TRACEPARENT: carrier(…)}` as botocore's serialisers write it (`late_body`): the JSON
# protocol's member (SQS; `%s` where the value goes) and the query protocol's form fields (SNS).
_JSON_MEMBER = json.dumps({"MessageAttributes": {TRACEPARENT: carrier("%s")}})[1:-1].encode()
_QUERY_FIELDS = {"MessageAttributes.entry.1.Name": TRACEPARENT, "MessageAttributes.entry.1.Value.DataType": "String"}


def json_member(traceparent: str) -> bytes:
    return _JSON_MEMBER % traceparent.encode("ascii")


def query_fields(traceparent: str) -> dict[str, str]:
    return {**_QUERY_FIELDS, "MessageAttributes.entry.1.Value.StringValue": traceparent}


def inject(entry: dict[str, Any], traceparent: str, where: str) -> None:
    """Add `traceparent` to `entry["MessageAttributes"]` unless present or over the limit.

    `entry` is botocore's fresh kwargs or our copy of a batch entry; the attributes dict is the caller's
    own, so the traceparent goes into a copy of it."""
    attributes = entry.get("MessageAttributes")
    if attributes is None:  # the common case: nothing to copy, check or count
        entry["MessageAttributes"] = {TRACEPARENT: carrier(traceparent)}
        return
    if not isinstance(attributes, dict):
        return
    if any(str(name).lower() == TRACEPARENT for name in attributes):
        return
    if len(attributes) >= MAX_ATTRIBUTES:
        health.skipped(f"{where}.attribute_limit",
                       f"a {where} message already has {len(attributes)} message attributes (AWS allows 10)")
        return
    entry["MessageAttributes"] = {**attributes, TRACEPARENT: carrier(traceparent)}


def inject_entries(params: dict[str, Any], key: str, traceparent: str, where: str) -> None:
    """The batch form of `inject`: each entry of `params[key]` is its own message (copied, see `entries`)."""
    inject_each(params, key, lambda entry: inject(entry, traceparent, where))


def sent_ids(single: bool, response: Mapping[str, Any]) -> dict[str, Any]:
    """The message id(s) SQS/SNS gave a send (one, or every `Successful` entry of a batch): what the
    consumer's record carries as its own id, so the two spans can be joined."""
    if single:
        return {semconv.MESSAGING_MESSAGE_ID: str(response["MessageId"])} if response.get("MessageId") else {}
    ids = [str(e["MessageId"]) for e in response.get("Successful") or ()
           if isinstance(e, Mapping) and e.get("MessageId")]
    return {semconv.MESSAGE_IDS: ids} if ids else {}
