"""`AWS::S3::Bucket` `NotificationConfiguration`: object events delivered to functions, queues, topics and
EventBridge, as S3 does.

moto matches each configuration's events and key filters and writes the notification to an internal
queue per configuration; a poller completes the record's shape (`events.s3`) and delivers it: to a
function as an asynchronous invoke (retries and on-failure destinations as for any async invoke), to
the configured queue or topic as S3's JSON, to EventBridge as an `aws.s3` event. The S3 test event
moto writes when a configuration is set is passed on to queues and topics (S3 sends it there too)
and never to functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .events.s3 import completed_event, eventbridge_entry

TEST_EVENT = "s3:TestEvent"
_ALL_EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectRestore:*", "s3:ObjectTagging:*"]
Deliver = Callable[[dict[str, Any]], None]


def _filter(config: dict[str, Any]) -> dict[str, Any] | None:
    """CloudFormation's `Filter.S3Key.Rules` as the API's `Filter.Key.FilterRules`."""
    rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("Rules")
    if not rules:
        return None
    return {"Key": {"FilterRules": [{"Name": str(r["Name"]).lower(), "Value": r["Value"]} for r in rules]}}


def wire_bucket(wiring: Any, logical_id: str, props: dict[str, Any]) -> None:
    """Called by `TriggerWiring.wire_resource` for every `AWS::S3::Bucket`."""
    notifications = props.get("NotificationConfiguration")
    if not isinstance(notifications, dict):
        return
    bucket = str(wiring._resources[logical_id].ref)
    entries: list[dict[str, Any]] = []
    for kind, target_key in (("LambdaConfigurations", "Function"), ("QueueConfigurations", "Queue"),
                             ("TopicConfigurations", "Topic")):
        for index, config in enumerate(notifications.get(kind) or []):
            deliver, label = _target(wiring, logical_id, f"{kind}[{index}].{target_key}", target_key,
                                     config.get(target_key))
            if deliver is None:
                continue
            entries.append(_configuration(wiring, bucket, [config["Event"]], _filter(config), deliver, label))
    bridge = notifications.get("EventBridgeConfiguration")
    if isinstance(bridge, dict) and str(bridge.get("EventBridgeEnabled", True)).lower() != "false":
        events = wiring._p.client("events")

        def to_eventbridge(event: dict[str, Any]) -> None:
            entries_ = [e for e in (eventbridge_entry(r) for r in event.get("Records", [])) if e]
            if entries_:
                events.put_events(Entries=entries_)

        entries.append(_configuration(wiring, bucket, _ALL_EVENTS, None, to_eventbridge, "EventBridge"))
    if entries:
        wiring._p.client("s3").put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": entries})


def _configuration(wiring: Any, bucket: str, events: list[str], key_filter: dict[str, Any] | None,
                   deliver: Deliver, label: str) -> dict[str, Any]:
    """An internal queue S3 (moto) notifies, polled into `deliver`; its queue configuration entry."""
    queue_url, queue_arn = wiring._internal_queue(f"s3-{bucket}")
    wants_test_event = label.startswith(("queue", "topic"))

    def handle(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for message in messages:
            try:
                body = json.loads(message["Body"])
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            if body.get("Event") == TEST_EVENT:
                if wants_test_event:
                    deliver(body)
                continue
            deliver(completed_event(body))
        return messages

    wiring._poll(queue_url, handle, f"s3-{bucket}")
    entry: dict[str, Any] = {"QueueArn": queue_arn, "Events": events}
    if key_filter:
        entry["Filter"] = key_filter
    return entry


def _target(wiring: Any, logical_id: str, prop: str, kind: str, reference: Any) -> tuple[Deliver | None, str]:
    if kind == "Function":
        pool = wiring._function(logical_id, prop, reference)
        if pool is None:
            return None, ""
        wiring.summary.add(pool.spec.name, "S3 notifications")
        return (lambda event: wiring._invoker.submit(pool, event)), pool.spec.name
    text = str(reference or "")
    if kind == "Queue":
        sqs = wiring._p.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=text.rsplit(":", 1)[-1])["QueueUrl"]
        except Exception:
            wiring._diag.unsupported(logical_id, prop, f"{text or 'nothing'} is not a queue of this template")
            return None, ""
        return (lambda event: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))), f"queue {text}"
    sns = wiring._p.client("sns")
    return (lambda event: sns.publish(TopicArn=text, Message=json.dumps(event),
                                      Subject="Amazon S3 Notification")), f"topic {text}"
