"""SQS: queue and message ids on the client span; `traceparent` in each message's attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import semconv
from hoptrace.outbound.message_attributes import inject, inject_entries
from hoptrace.outbound.names import last_part, str_list

_OPERATION_TYPES = {"SendMessage": "send", "SendMessageBatch": "send", "ReceiveMessage": "receive",
                    "DeleteMessage": "settle", "DeleteMessageBatch": "settle"}


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
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
    if operation == "SendMessage" and response.get("MessageId"):
        return {semconv.MESSAGING_MESSAGE_ID: str(response["MessageId"])}
    if operation == "SendMessageBatch":
        ids = str_list(e.get("MessageId") for e in response.get("Successful") or () if isinstance(e, Mapping))
        return {semconv.MESSAGE_IDS: ids} if ids else {}
    if operation == "ReceiveMessage":
        return {semconv.MESSAGING_BATCH_COUNT: len(response.get("Messages") or ())}
    return {}


def send_message(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject(params, traceparent, "sqs")


def send_message_batch(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject_entries(params, "Entries", traceparent, "sqs")
