"""SQS: queue and message ids on the client span; `traceparent` in each message's attributes (or its body's member)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import semconv
from hoptrace.outbound.message_attributes import inject, inject_entries, json_member, sent_ids
from hoptrace.outbound.names import last_part

_OPERATION_TYPES = {"SendMessage": "send", "SendMessageBatch": "send", "ReceiveMessage": "receive",
                    "DeleteMessage": "settle", "DeleteMessageBatch": "settle"}


# (operation, queue URL) -> the request's attributes: a function sends to few queues, and these are all
# the attributes of a call without `Entries`. Read only (the caller copies them into the span's).
_BY_QUEUE: dict[tuple[str, str], dict[str, Any]] = {}
_MAX_QUEUES = 256
# operation -> the one parameter its request attributes depend on (when it is a string): the SDK hook keeps
# the span's prepared attributes under its value and does not ask `request_attributes` again.
KEYED_BY = {operation: "QueueUrl" for operation in _OPERATION_TYPES if operation != "SendMessageBatch"}


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The queue, the operation's kind and a batch's size; the caller must not change the dict returned."""
    url = params.get("QueueUrl")
    if type(url) is str and operation != "SendMessageBatch":
        key = (operation, url)
        found = _BY_QUEUE.get(key)
        if found is None:
            found = _request_attributes(operation, params)
            if len(_BY_QUEUE) < _MAX_QUEUES:
                _BY_QUEUE[key] = found
        return found
    return _request_attributes(operation, params)


def _request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {semconv.MESSAGING_SYSTEM: "aws_sqs"}
    url = params.get("QueueUrl")
    if isinstance(url, str):
        attributes[semconv.AWS_SQS_QUEUE_URL] = url
        attributes[semconv.MESSAGING_DESTINATION] = last_part(url, "/")
    elif isinstance(params.get("QueueName"), str):
        attributes[semconv.MESSAGING_DESTINATION] = params["QueueName"]
    if operation in _OPERATION_TYPES:
        attributes[semconv.MESSAGING_OPERATION] = _OPERATION_TYPES[operation]
    entries = params.get("Entries")
    if operation == "SendMessageBatch" and isinstance(entries, list):
        attributes[semconv.MESSAGING_BATCH_COUNT] = len(entries)
    return attributes


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    if operation == "SendMessage":  # the common one first, without a call
        message_id = response.get("MessageId")
        return {semconv.MESSAGING_MESSAGE_ID: str(message_id)} if message_id else {}
    if operation == "SendMessageBatch":
        return sent_ids(False, response)
    if operation == "ReceiveMessage":
        return {semconv.MESSAGING_BATCH_COUNT: len(response.get("Messages") or ())}
    return {}


def send_message(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject(params, traceparent, "sqs")


def send_message_member(params: dict[str, Any], traceparent: str, xray: str) -> bytes | None:
    """`send_message` for a JSON-protocol client: a message without attributes of its own gets its
    `traceparent` as the body's `MessageAttributes` member (`late_body`), the rest as parameters."""
    if "MessageAttributes" in params:
        inject(params, traceparent, "sqs")
        return None
    return json_member(traceparent)


def send_message_batch(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject_entries(params, "Entries", traceparent, "sqs")
