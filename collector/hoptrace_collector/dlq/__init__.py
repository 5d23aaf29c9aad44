"""The DLQ watcher: `hoptrace_collector.dlq.handler`, run on a schedule.

For every dead-letter queue (from `HOPTRACE_DLQ_URLS`, comma-separated, or discovered from
the other queues' `RedrivePolicy`) it *peeks* at the messages — each `ReceiveMessage` hides what
it got for a moment so the next one returns further messages, and at the end of the run every
peeked message is made visible again (`ChangeMessageVisibility` 0), so they stay in the queue for
whoever redrives them — and stores a
`DlqMessage` for each, tied to the trace the message carries and to the error of the last
failed span that processed it (`messaging.message.id` = the message id; SQS keeps the id when
it moves a message to the DLQ). Each run repeats `ReceiveMessage` up to `max_receives`
times (up to 100 messages per queue and run); SQS answers from a sample of its servers, so a
larger DLQ is covered over a few runs.
Peeking raises `ApproximateReceiveCount`; the store keeps the highest count seen.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from hoptrace import semconv
from hoptrace_collector.config import CollectorConfig
from hoptrace_collector.dlq.discover import DeadLetterQueue, configured, discover
from hoptrace_collector.dlq.messages import Peeked, peek
from hoptrace_collector.ingest.problems import log_line
from hoptrace_collector.store import DlqMessage, Store, TraceFilter, open_store

SQS_RETENTION_NS = 14 * 24 * 3600 * 1_000_000_000  # the longest a message can sit in a queue
_STORE: Store | None = None
_LOCK = threading.Lock()


PEEK_HIDE_S = 30  # long enough for one run's receives; undone at the end of the run


def receive_all(sqs: Any, url: str, max_receives: int = 10) -> list[dict[str, Any]]:
    """Peek without consuming: each message once, all of them visible again afterwards.

    With `VisibilityTimeout=0` SQS hands back the same first ten messages every time, so a DLQ
    holding more was never seen past them; hiding each batch briefly walks the whole queue.
    """
    seen: dict[str, dict[str, Any]] = {}
    try:
        for _ in range(max_receives):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=PEEK_HIDE_S,
                                           WaitTimeSeconds=0, MessageAttributeNames=["All"],
                                           MessageSystemAttributeNames=["All"]).get("Messages", [])
            new = [m for m in messages if m.get("MessageId") not in seen]
            if not new:
                break
            for message in new:
                seen[message["MessageId"]] = message
    finally:
        _show_again(sqs, url, list(seen.values()))
    return list(seen.values())


def _show_again(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                   for n, m in enumerate(messages[start:start + 10]) if m.get("ReceiptHandle")]
        if entries:
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def last_error(store: Store, trace_id: str | None, message_id: str, now_ns: int) -> tuple[str | None, str]:
    """(trace id, error) of the last failed span that processed `message_id`, if the store has one."""
    traces = [trace_id] if trace_id else [s.trace_id for s in store.list_traces(
        TraceFilter(text=message_id, since_ns=now_ns - SQS_RETENTION_NS, limit=5))]
    failed = [span for tid in traces for span in store.get_trace(tid)
              if span.status == "error" and span.attributes.get(semconv.MESSAGING_MESSAGE_ID) == message_id]
    if not failed:
        return trace_id, ""
    span = max(failed, key=lambda s: s.end_ns)
    return span.trace_id, span.status_message or span.name


def trace_of_request(store: Store, request_id: str) -> str | None:
    found = store.list_traces(TraceFilter(request_id=request_id, limit=1))
    return found[0].trace_id if found else None


def record(store: Store, queue: DeadLetterQueue, peeked: Peeked, now_ns: int) -> DlqMessage:
    trace_id, error = peeked.trace_id, peeked.error
    if trace_id is None and peeked.request_id:
        trace_id = trace_of_request(store, peeked.request_id)
    if not error:
        trace_id, error = last_error(store, trace_id, peeked.message_id, now_ns)
    return DlqMessage(queue=queue.name, message_id=peeked.message_id, first_seen_ns=now_ns,
                      receive_count=peeked.receive_count, trace_id=trace_id, parent_span_id=peeked.parent_span_id,
                      body_preview=peeked.body_preview, source_queue=queue.source, error=error)


def watch(sqs: Any, store: Store, urls: tuple[str, ...] | list[str] = (), now_ns: int | None = None,
          max_receives: int = 10) -> dict[str, Any]:
    """Peek at every dead-letter queue once and store what is in them; returns counts per queue."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    queues = configured(urls, _listing(sqs)) if urls else discover(sqs)
    found: list[DlqMessage] = []
    summary: dict[str, Any] = {"queues": {}, "errors": {}}
    for queue in queues:
        try:
            messages = receive_all(sqs, queue.url, max_receives)
        except Exception as exc:  # one unreadable queue must not hide the others
            summary["errors"][queue.name] = f"{type(exc).__name__}: {exc}"
            continue
        found.extend(record(store, queue, peek(m), now_ns) for m in messages)
        summary["queues"][queue.name] = len(messages)
    result = store.write(dlq=found)
    summary["messages"], summary["written"] = len(found), result.dlq_written
    if summary["errors"]:
        log_line("dlq_errors", errors=summary["errors"])
    return summary


def _listing(sqs: Any) -> Any:
    """The client, if it may list queues (to name the sources of configured DLQs); None if not allowed."""
    try:
        sqs.list_queues(MaxResults=1)
    except Exception:
        return None
    return sqs


def handler(event: Any = None, context: Any = None) -> dict[str, Any]:
    """Scheduled entry point; the store is opened once per process."""
    import boto3

    global _STORE
    config = CollectorConfig.from_env()
    with _LOCK:
        if _STORE is None:
            _STORE = open_store(config.store_url)
    return watch(boto3.client("sqs"), _STORE, config.dlq_urls)
