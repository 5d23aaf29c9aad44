"""Kafka batches from Amazon MSK (`aws:kafka`) and self-managed clusters (`SelfManagedKafka`).

Records arrive grouped by `topic-partition`; each gets its own span, parented in the trace
whose W3C `traceparent` the producer put in the record headers.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._brokers import finder_for
from hoptrace.triggers._messages import batch_invocation
from hoptrace.triggers.model import Invocation, Record

NAME = "kafka"
_SOURCES = frozenset({"aws:kafka", "SelfManagedKafka"})


def matches(event: dict[str, Any]) -> bool:
    source = event.get("eventSource")
    return isinstance(source, str) and source in _SOURCES and isinstance(event.get("records"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records: list[Record] = []
    problems: list[str] = []
    for batch in event["records"].values():
        for raw in batch if isinstance(batch, list) else ():
            if isinstance(raw, dict):
                records.append(_record(raw, problems))
    topic = records[0].attributes[semconv.MESSAGING_DESTINATION] if records else "unknown"
    invocation = batch_invocation(NAME, "kafka", topic, records)
    invocation.problems.extend(problems)
    source = event.get("eventSourceArn") or event.get("bootstrapServers")
    if isinstance(source, str):
        invocation.attributes[semconv.EVENT_SOURCE] = source[:512]
    invocation.attributes["hoptrace.kafka.source"] = "msk" if event["eventSource"] == "aws:kafka" else "self-managed"
    return invocation


def _record(record: dict[str, Any], problems: list[str]) -> Record:
    topic = str(record.get("topic") or "unknown")
    partition, offset = record.get("partition"), record.get("offset")
    message_id = f"{topic}-{partition}@{offset}"
    finder = finder_for(record.get("headers"), "kafka.headers")
    problems.extend(finder.problems)
    attributes: dict[str, Any] = {
        semconv.MESSAGING_SYSTEM: "kafka",
        semconv.MESSAGING_OPERATION: "process",
        semconv.MESSAGING_DESTINATION: topic,
        semconv.MESSAGING_MESSAGE_ID: message_id,
    }
    if isinstance(partition, int) and not isinstance(partition, bool):
        attributes[semconv.MESSAGING_PARTITION] = str(partition)
    if isinstance(offset, int) and not isinstance(offset, bool):
        attributes[semconv.MESSAGING_KAFKA_OFFSET] = offset
    return Record(f"process {topic}", message_id, finder.found, attributes)
