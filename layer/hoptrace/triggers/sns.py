"""SNS notifications delivered to a function."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder, sns_attribute_values
from hoptrace.config import Config
from hoptrace.triggers import _s3
from hoptrace.triggers._messages import batch_invocation, first_record_from, name_from_arn, wait_ms_since
from hoptrace.triggers.model import Invocation, Record

NAME = "sns"


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "EventSource", "aws:sns")


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records: list[Record] = []
    problems: list[str] = []
    for raw in event["Records"]:
        message = raw.get("Sns") if isinstance(raw, dict) else None
        if not isinstance(message, dict):
            continue
        finder = ContextFinder()
        finder.offer_mapping(sns_attribute_values(message.get("MessageAttributes")), "sns.MessageAttributes")
        problems.extend(finder.problems)
        topic = name_from_arn(message.get("TopicArn"))
        message_id = str(message.get("MessageId", ""))
        attributes: dict[str, Any] = {
            semconv.MESSAGING_SYSTEM: "aws_sns",
            semconv.MESSAGING_OPERATION: "process",
            semconv.MESSAGING_DESTINATION: topic,
            semconv.MESSAGING_MESSAGE_ID: message_id,
        }
        _s3.merge_upstream(attributes, message.get("Message"))
        wait = wait_ms_since(_epoch_ms(message.get("Timestamp")))
        if wait is not None:
            attributes[semconv.QUEUE_WAIT_MS] = round(wait, 3)
        records.append(Record(f"process {topic}", message_id, finder.found, attributes))
    topic = records[0].attributes[semconv.MESSAGING_DESTINATION] if records else "unknown"
    invocation = batch_invocation(NAME, "aws_sns", topic, records)
    invocation.problems.extend(problems)
    return invocation


def _epoch_ms(timestamp: Any) -> float | None:
    if not isinstance(timestamp, str):
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000.0
    except ValueError:
        return None
