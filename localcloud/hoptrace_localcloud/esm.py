"""The SQS event source mapping: batches to a function, deletes what succeeded, leaves failures to come
back after the visibility timeout (so the queue's RedrivePolicy can move them to its DLQ)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .eventpattern import sqs_filter_view
from .events.sqs import sqs_event, sqs_record
from .pool import FunctionPool

RecordFilter = Callable[[dict[str, Any]], bool]


class SqsBatchHandler:
    """Invokes the function with one batch and decides which messages are done."""

    def __init__(self, pool: FunctionPool, queue_arn: str, region: str, report_item_failures: bool,
                 record_filter: RecordFilter | None = None) -> None:
        self._pool = pool
        self._queue_arn = queue_arn
        self._region = region
        self._partial = report_item_failures
        self._filter = record_filter

    def __call__(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records = [sqs_record(message, self._queue_arn, self._region) for message in messages]
        dropped: list[dict[str, Any]] = []
        if self._filter is not None:  # Lambda deletes the messages no filter matches, without invoking
            kept = [self._filter(sqs_filter_view(record)) for record in records]
            dropped = [m for m, keep in zip(messages, kept, strict=True) if not keep]
            messages = [m for m, keep in zip(messages, kept, strict=True) if keep]
            records = [r for r, keep in zip(records, kept, strict=True) if keep]
            if not messages:
                return dropped
        invocation = self._pool.invoke(sqs_event(messages, self._queue_arn, self._region) if self._filter is None
                                       else {"Records": records})
        if invocation.failed:
            return dropped
        if not self._partial:
            return dropped + messages
        failed_ids = failed_message_ids(invocation.payload, {m["MessageId"] for m in messages})
        if failed_ids is None:
            return dropped
        return dropped + [m for m in messages if m["MessageId"] not in failed_ids]


def failed_message_ids(payload: Any, batch_ids: set[str]) -> set[str] | None:
    """The ids a partial batch response marks failed; None means "the whole batch failed", as Lambda
    treats a response naming an unknown or empty itemIdentifier."""
    if not isinstance(payload, dict) or not payload.get("batchItemFailures"):
        return set()
    ids = set()
    for failure in payload["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return None
        ids.add(identifier)
    return ids
