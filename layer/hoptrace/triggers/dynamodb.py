"""DynamoDB Streams batches (`eventSource: aws:dynamodb`): one span per stream record.

A record's `SequenceNumber` is its id, so `batchItemFailures` (`itemIdentifier` = sequence
number) marks exactly the failed records. Each record offers the digests of its `Keys` and
its `NewImage`; the collector links it to the `PutItem`/`UpdateItem`/`DeleteItem` (or batch
or transaction) span that wrote the item.
"""

from __future__ import annotations

from typing import Any

from hoptrace import links, semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import batch_invocation, first_record_from, records_of, wait_ms_since
from hoptrace.triggers.model import Invocation, Record

NAME = "dynamodb"
_OPERATIONS = {"INSERT": "insert", "MODIFY": "edit", "REMOVE": "delete"}


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "eventSource", "aws:dynamodb")


def table_of(arn: Any) -> str:
    return links.table_name(arn) if isinstance(arn, str) and arn else "unknown"


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records = [_record(r) for r in records_of(event)]
    table = table_of(records_of(event)[0].get("eventSourceARN")) if records else "unknown"
    invocation = batch_invocation(NAME, "aws_dynamodb", table, records, faas_trigger="datasource")
    invocation.attributes[semconv.FAAS_DOCUMENT_COLLECTION] = table
    invocation.attributes[semconv.AWS_DYNAMODB_TABLE_NAMES] = [table]
    return invocation


def _record(record: dict[str, Any]) -> Record:
    stream = found if isinstance(found := record.get("dynamodb"), dict) else {}
    table = table_of(record.get("eventSourceARN"))
    sequence = str(stream.get("SequenceNumber") or record.get("eventID") or "")
    event_name = record.get("eventName")
    attributes: dict[str, Any] = {
        semconv.MESSAGING_SYSTEM: "aws_dynamodb",
        semconv.MESSAGING_OPERATION: "process",
        semconv.MESSAGING_DESTINATION: table,
        semconv.MESSAGING_MESSAGE_ID: sequence,
        semconv.FAAS_DOCUMENT_COLLECTION: table,
        semconv.FAAS_DOCUMENT_OPERATION: _OPERATIONS.get(event_name, "edit") if isinstance(event_name, str) else "edit",
    }
    if isinstance(event_name, str):
        attributes[semconv.DYNAMODB_EVENT_NAME] = event_name
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, (int, float)) and not isinstance(created, bool):
        # Seconds since the epoch; newer sources send microsecond precision in the fraction.
        wait = wait_ms_since(created * 1000.0)
        if wait is not None:
            attributes[semconv.QUEUE_WAIT_MS] = round(wait, 3)
    consumed = [k for k in (links.dynamodb_item(table, stream.get("Keys")),
                            links.dynamodb_item(table, stream.get("NewImage"))) if k is not None]
    if consumed:
        attributes[semconv.LINK_CONSUMED] = consumed
    return Record(f"process {table}", sequence, None, attributes)
