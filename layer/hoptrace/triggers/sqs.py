"""SQS event source mapping batches, including messages that came through SNS or EventBridge.

Context is looked for in each record, in order: W3C `traceparent` as an SQS message
attribute, inside an SNS envelope (raw delivery off), inside an EventBridge envelope's
`detail._hoptrace`; then X-Ray: an `X-Amzn-Trace-Id` attribute, `AWSTraceHeader`.
"""

from __future__ import annotations

import json
from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder, sns_attribute_values, sqs_attribute_values
from hoptrace.config import Config
from hoptrace.triggers import _s3
from hoptrace.triggers._messages import batch_invocation, first_record_from, name_from_arn, wait_ms_since
from hoptrace.triggers.eventbridge import offer_detail_context
from hoptrace.triggers.model import Invocation, Record

NAME = "sqs"


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "eventSource", "aws:sqs")


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    problems: list[str] = []
    records = [_record(r, problems) for r in event["Records"] if isinstance(r, dict)]
    queue = name_from_arn(event["Records"][0].get("eventSourceARN"))
    invocation = batch_invocation(NAME, "aws_sqs", queue, records)
    invocation.problems.extend(problems)
    return invocation


def _envelope(body: Any) -> dict[str, Any] | None:
    """The SNS or EventBridge envelope a body holds, if any; plain bodies cost no JSON parse."""
    if not isinstance(body, str) or not body.startswith("{"):
        return None
    if '"TopicArn"' not in body and '"detail-type"' not in body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _record(record: dict[str, Any], problems: list[str]) -> Record:
    finder = ContextFinder()
    finder.offer_mapping(sqs_attribute_values(record.get("messageAttributes")), "sqs.messageAttributes")
    attributes: dict[str, Any] = {
        semconv.MESSAGING_SYSTEM: "aws_sqs",
        semconv.MESSAGING_OPERATION: "process",
    }
    envelope = _envelope(record.get("body"))
    if envelope is not None and "TopicArn" in envelope:
        finder.offer_mapping(sns_attribute_values(envelope.get("MessageAttributes")), "sns-envelope")
        attributes[semconv.UPSTREAM] = "sns:" + name_from_arn(envelope.get("TopicArn"))
        _s3.merge_upstream(attributes, envelope.get("Message"))
    elif envelope is not None and "detail-type" in envelope:
        offer_detail_context(finder, envelope.get("detail"), "eventbridge-envelope")
        attributes[semconv.UPSTREAM] = "eventbridge:" + str(envelope.get("source"))
    else:
        _s3.merge_upstream(attributes, record.get("body"))
    system = found if isinstance(found := record.get("attributes"), dict) else {}
    finder.offer_xray(system.get("AWSTraceHeader"), "sqs.AWSTraceHeader")
    queue = name_from_arn(record.get("eventSourceARN"))
    message_id = str(record.get("messageId", ""))
    attributes[semconv.MESSAGING_DESTINATION] = queue
    attributes[semconv.MESSAGING_MESSAGE_ID] = message_id
    wait = wait_ms_since(system.get("SentTimestamp"))
    if wait is not None:
        attributes[semconv.QUEUE_WAIT_MS] = round(wait, 3)
    try:
        attributes[semconv.RECEIVE_COUNT] = int(system.get("ApproximateReceiveCount", 1))
    except (TypeError, ValueError):
        pass
    problems.extend(finder.problems)
    return Record(name=f"process {queue}", message_id=message_id, parent=finder.found, attributes=attributes)
