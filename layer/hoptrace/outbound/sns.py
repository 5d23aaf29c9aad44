"""SNS Publish / PublishBatch: `traceparent` survives SNS→SQS (raw or enveloped) and SNS→Lambda."""

from __future__ import annotations

from typing import Any

from hoptrace.outbound.message_attributes import inject, inject_entries


def publish(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject(params, traceparent, "sns")


def publish_batch(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject_entries(params, "PublishBatchRequestEntries", traceparent, "sns")
