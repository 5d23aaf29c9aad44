"""SNS: topic and message ids on the client span; `traceparent` survives SNS→SQS (raw or enveloped) and SNS→Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import semconv
from hoptrace.outbound.message_attributes import inject, inject_entries, query_fields, sent_ids
from hoptrace.outbound.names import last_part


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {semconv.MESSAGING_SYSTEM: "aws_sns"}
    arn = params.get("TopicArn") or params.get("TargetArn")
    if isinstance(arn, str):
        attributes[semconv.AWS_SNS_TOPIC_ARN] = arn
        attributes[semconv.MESSAGING_DESTINATION] = last_part(arn, ":")
    elif isinstance(params.get("PhoneNumber"), str):
        attributes[semconv.MESSAGING_DESTINATION] = "phone_number"  # never the number itself
    if operation in ("Publish", "PublishBatch"):
        attributes[semconv.MESSAGING_OPERATION] = "send"
    entries = params.get("PublishBatchRequestEntries")
    if operation == "PublishBatch" and isinstance(entries, list):
        attributes[semconv.MESSAGING_BATCH_COUNT] = len(entries)
    return attributes


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    return sent_ids(operation == "Publish", response) if operation in ("Publish", "PublishBatch") else {}


def publish(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject(params, traceparent, "sns")


def publish_members(params: dict[str, Any], traceparent: str, xray: str) -> dict[str, str] | None:
    """`publish` for a query-protocol client: a message without attributes of its own gets its
    `traceparent` as the form fields botocore would have written (`late_body`), the rest as parameters."""
    if "MessageAttributes" in params:
        inject(params, traceparent, "sns")
        return None
    return query_fields(traceparent)


def publish_batch(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject_entries(params, "PublishBatchRequestEntries", traceparent, "sns")
