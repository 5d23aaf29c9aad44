"""Amazon MQ for RabbitMQ batches (`eventSource: aws:rmq`): context from `basicProperties.headers`."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._brokers import broker_invocation, finder_for
from hoptrace.triggers.model import Invocation, Record

NAME = "rabbitmq"


def matches(event: dict[str, Any]) -> bool:
    return event.get("eventSource") == "aws:rmq" and isinstance(event.get("rmqMessagesByQueue"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records: list[Record] = []
    problems: list[str] = []
    for queue_key, messages in event["rmqMessagesByQueue"].items():
        queue = str(queue_key).split("::", 1)[0]  # "<queue>::<virtual host>"
        for index, message in enumerate(messages if isinstance(messages, list) else ()):
            if not isinstance(message, dict):
                continue
            properties = found if isinstance(found := message.get("basicProperties"), dict) else {}
            message_id = str(properties.get("messageId") or f"{queue}#{index}")
            finder = finder_for(properties.get("headers"), "rabbitmq.headers")
            problems.extend(finder.problems)
            attributes = {semconv.MESSAGING_SYSTEM: "rabbitmq", semconv.MESSAGING_OPERATION: "process",
                          semconv.MESSAGING_DESTINATION: queue, semconv.MESSAGING_MESSAGE_ID: message_id}
            records.append(Record(f"process {queue}", message_id, finder.found, attributes))
    return broker_invocation(NAME, "rabbitmq", records, problems, event)
