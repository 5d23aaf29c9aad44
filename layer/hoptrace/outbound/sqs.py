"""SQS SendMessage / SendMessageBatch: the botocore extension records but never injects."""

from __future__ import annotations

from typing import Any

from hoptrace.outbound.message_attributes import inject, inject_entries


def send_message(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject(params, traceparent, "sqs")


def send_message_batch(params: dict[str, Any], traceparent: str, xray: str) -> None:
    inject_entries(params, "Entries", traceparent, "sqs")
