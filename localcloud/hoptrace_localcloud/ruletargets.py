"""Delivers EventBridge events (rules, schedules and EventBridge Scheduler) to their targets locally, by target
type: Lambda, SQS (FIFO too), SNS, another event bus, Step Functions, CloudWatch Logs, Kinesis, Firehose.

moto only matches the pattern (into an internal queue); delivery is here so a target moto cannot serve never
turns the producer's `PutEvents` into an error. A target type not listed is one warning at start-up.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from .diagnostics import Diagnostics

logger = logging.getLogger("hoptrace.localcloud")

Deliver = Callable[[Any], None]  # the (transformed) event -> delivered
# Target ARN service -> what the docs call it (for the warning of the ones not delivered).
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
SUPPORTED = ("lambda", "sqs", "sns", "events", "states", "logs", "kinesis", "firehose")


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 5 else ""


def _resource(arn: str) -> str:
    return arn.split(":", 5)[5] if arn.count(":") >= 5 else ""


def transform(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """The target's `Input`, `InputPath` or `InputTransformer` applied to the event, as EventBridge does."""
    if "Input" in target:
        text = target["Input"]
        try:
            return json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError:
            return text
    if "InputPath" in target:
        return json_path(event, str(target["InputPath"]))
    if "InputTransformer" in target:
        spec = target["InputTransformer"] or {}
        values = {name: json_path(event, str(path)) for name, path in (spec.get("InputPathsMap") or {}).items()}
        values["aws.events.event.json"] = event
        text = _render(str(spec.get("InputTemplate", "")), values)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return event


def _render(template: str, values: dict[str, Any]) -> str:
    """Fill `<name>` placeholders: inside a JSON string the value's text, elsewhere its JSON."""
    out, in_string, index = [], False, 0
    while index < len(template):
        char = template[index]
        if char == '"' and (index == 0 or template[index - 1] != "\\"):
            in_string = not in_string
        match = _PLACEHOLDER.match(template, index)
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                out.append(json.dumps(value)[1:-1] if isinstance(value, str) else json.dumps(value).replace('"', '\\"'))
            else:
                out.append(json.dumps(value))
            index = match.end()
            continue
        out.append(char)
        index += 1
    return "".join(out)


def json_path(event: Any, path: str) -> Any:
    """A simple JSONPath (`$`, `$.a.b`, `$.a[0]`) into the event; missing parts give None."""
    value = event
    for part in [p for p in path.lstrip("$").replace("[", ".").replace("]", "").split(".") if p]:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


class RuleTargets:
    """Makes a delivery function per target; `None` (and one warning) for a target that cannot be delivered."""

    def __init__(self, client: Callable[[str], Any], diagnostics: Diagnostics,
                 function: Callable[[str, str, str], Any], invoke_async: Callable[[Any, Any], None],
                 state_machines: Callable[[], Any]) -> None:
        self._client = client
        self._diag = diagnostics
        self._function = function
        self._invoke_async = invoke_async
        self._state_machines = state_machines
        self._queue_urls: dict[str, str] = {}

    def delivery(self, logical_id: str, index: int | None, target: dict[str, Any],
                 guarded: bool = True) -> Deliver | None:
        """A function delivering an event to `target` (transformed as the target says). Guarded, a failure is
        logged and costs only that delivery; unguarded, it raises (EventBridge Scheduler retries, then DLQ)."""
        arn = str(target.get("Arn", ""))
        service = _service(arn)
        where = "Target" if index is None else f"Targets[{index}]"
        make = getattr(self, f"_to_{service}", None)
        if make is None:
            self._diag.unsupported(logical_id, where, f"{arn}: {service or 'this'} targets are not delivered "
                                   f"locally (delivered: {', '.join(SUPPORTED)}); events to it are dropped")
            return None
        deliver = make(logical_id, where, arn, target)
        if deliver is None:
            return None

        def transformed(event: Any) -> None:
            deliver(transform(target, event) if isinstance(event, dict) else event)

        def safe(event: Any) -> None:
            try:
                transformed(event)
            except Exception as exc:  # a failing target costs only its own delivery, never the producer
                logger.warning("EventBridge target %s of %s not delivered: %s", arn, logical_id, exc)

        return safe if guarded else transformed

    # -- one factory per target type ----------------------------------------------------------------
    def _to_lambda(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver | None:
        pool = self._function(logical_id, where, arn)
        if pool is None:
            return None
        return lambda payload: self._invoke_async(pool, payload)

    def _to_sqs(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver:
        sqs = self._client("sqs")
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")

        def send(payload: Any) -> None:
            url = self._queue_urls.get(arn)
            if url is None:
                url = self._queue_urls[arn] = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
            kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": _text(payload)}
            if arn.endswith(".fifo"):
                kwargs["MessageGroupId"] = group or "eventbridge"
                kwargs["MessageDeduplicationId"] = uuid.uuid4().hex
            sqs.send_message(**kwargs)

        return send

    def _to_sns(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver:
        sns = self._client("sns")

        def publish(payload: Any) -> None:
            kwargs: dict[str, Any] = {"TopicArn": arn, "Message": _text(payload)}
            if arn.endswith(".fifo"):
                kwargs["MessageGroupId"] = "eventbridge"
                kwargs["MessageDeduplicationId"] = uuid.uuid4().hex
            sns.publish(**kwargs)

        return publish

    def _to_events(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver | None:
        if not _resource(arn).startswith("event-bus/"):
            self._diag.unsupported(logical_id, where, f"{arn}: only event bus targets of EventBridge are "
                                   "delivered locally; events to it are dropped")
            return None
        events, bus = self._client("events"), _resource(arn).split("/", 1)[1]

        def put(payload: Any) -> None:
            event = payload if isinstance(payload, dict) else {}
            events.put_events(Entries=[{
                "Source": str(event.get("source", "local")), "DetailType": str(event.get("detail-type", "Event")),
                "Detail": json.dumps(event.get("detail", {})), "Resources": list(event.get("resources") or []),
                "EventBusName": bus}])

        return put

    def _to_states(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver | None:
        machines = self._state_machines()
        if machines is None:
            self._diag.unsupported(logical_id, where, f"{arn}: no state machine of this template; not delivered")
            return None
        return lambda payload: machines.start_from_event(arn, _text(payload))

    def _to_logs(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver:
        logs = self._client("logs")
        group = _resource(arn).removeprefix("log-group:").removesuffix(":*")

        def put(payload: Any) -> None:
            stream = uuid.uuid4().hex
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(logGroupName=group, logStreamName=stream,
                                logEvents=[{"timestamp": int(time.time() * 1000), "message": _text(payload)}])

        return put

    def _to_kinesis(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver:
        kinesis, stream = self._client("kinesis"), _resource(arn).removeprefix("stream/")
        key_path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")

        def put(payload: Any) -> None:
            key = json_path(payload, key_path) if key_path else None
            kinesis.put_record(StreamName=stream, Data=_text(payload).encode(),
                               PartitionKey=str(key or uuid.uuid4().hex))

        return put

    def _to_firehose(self, logical_id: str, where: str, arn: str, target: dict[str, Any]) -> Deliver:
        firehose, stream = self._client("firehose"), _resource(arn).removeprefix("deliverystream/")
        return lambda payload: firehose.put_record(DeliveryStreamName=stream,
                                                   Record={"Data": _text(payload).encode()})
