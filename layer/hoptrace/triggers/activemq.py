"""Amazon MQ for ActiveMQ batches (`eventSource: aws:amq`): context from message properties."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._brokers import broker_invocation, finder_for
from hoptrace.triggers._messages import wait_ms_since
from hoptrace.triggers.model import Invocation, Record

NAME = "activemq"


def matches(event: dict[str, Any]) -> bool:
    return event.get("eventSource") == "aws:amq" and isinstance(event.get("messages"), list)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records: list[Record] = []
    problems: list[str] = []
    for index, message in enumerate(event["messages"]):
        if not isinstance(message, dict):
            continue
        destination = found if isinstance(found := message.get("destination"), dict) else {}
        queue = str(destination.get("physicalName") or "unknown")
        message_id = str(message.get("messageID") or index)
        finder = finder_for(message.get("properties"), "activemq.properties")
        problems.extend(finder.problems)
        attributes: dict[str, Any] = {semconv.MESSAGING_SYSTEM: "activemq", semconv.MESSAGING_OPERATION: "process",
                                      semconv.MESSAGING_DESTINATION: queue, semconv.MESSAGING_MESSAGE_ID: message_id}
        wait = wait_ms_since(message.get("brokerInTime"))
        if wait is not None:
            attributes[semconv.QUEUE_WAIT_MS] = round(wait, 3)
        records.append(Record(f"process {queue}", message_id, finder.found, attributes))
    return broker_invocation(NAME, "activemq", records, problems, event)
