"""Wires triggers to functions from the CloudFormation resources SAM generates (or the template declares):
Lambda SNS subscriptions, rule targets, event source mappings, log subscription filters, API bodies.

Every trigger becomes a route, a queue poller, a schedule or a log subscription; a trigger that cannot be
emulated produces one warning naming the resource and property.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import s3notifications, streammappings
from .apis import HTTP_API, REST_API, STAGE_TYPES, ApiWiring
from .apiserver import ApiServer
from .apiservice import ServiceIntegrations
from .asyncinvoke import AsyncInvoker
from .diagnostics import Diagnostics
from .esm import RecordFilter, SqsBatchHandler
from .eventpattern import PatternError, compile_filters
from .events.eventbridge import delivered_event, scheduled_event
from .events.sns import sns_event
from .eventscheduler import TYPE as SCHEDULE_TYPE
from .eventscheduler import EventSchedules
from .filterpattern import UnsupportedPattern, compile_pattern
from .logsubscriptions import LogRouter, Subscription
from .pool import FunctionPool
from .provisioning import Provisioner, queue_name_from_arn
from .resources import ResourceInfo
from .ruletargets import RuleTargets
from .schedules import ScheduleError, Scheduler, next_fire_function
from .sqspolling import DEFAULT_MAPPING_POLLERS, QueuePoller


@dataclass
class TriggerSummary:
    """A human-readable line per trigger, printed by `hoptrace local`."""

    lines: dict[str, list[str]] = field(default_factory=dict)

    def add(self, function: str, text: str) -> None:
        self.lines.setdefault(function, []).append(text)


class TriggerWiring:
    def __init__(self, provisioner: Provisioner, diagnostics: Diagnostics, pools: dict[str, FunctionPool],
                 resources: dict[str, ResourceInfo], api: ApiServer, invoker: AsyncInvoker,
                 scheduler: Scheduler, router: LogRouter, *, wait_seconds: int, visibility_timeout: int | None,
                 schedule_time_scale: float, jwt_keys: dict[str, str] | None = None) -> None:
        self._p = provisioner
        self._diag = diagnostics
        self._pools = pools
        self._by_arn = {pool.spec.arn: pool for pool in pools.values()}
        self._resources = resources
        self._api = api
        self._invoker = invoker
        self._scheduler = scheduler
        self._router = router
        self._wait = wait_seconds
        self._visibility = visibility_timeout
        self._time_scale = schedule_time_scale
        self._sqs = provisioner.client("sqs")
        self.pollers: list[QueuePoller] = []
        self.summary = TriggerSummary()
        self.apis = ApiWiring(api, diagnostics, self._by_arn.get, self.summary.add,
                              ServiceIntegrations(provisioner.client, provisioner.account_id, provisioner.region),
                              jwt_keys, provisioner.account_id, provisioner.region)
        self.targets = RuleTargets(provisioner.client, diagnostics, self._function, invoker.submit,
                                   lambda: self.state_machines)
        self.schedules = EventSchedules(self.targets, scheduler, diagnostics, provisioner.client,
                                        provisioner.account_id, provisioner.region, schedule_time_scale,
                                        self.summary.add)
        self.state_machines: Any = None  # statemachines.StateMachines, when the template has any

    def add_sqs_mapping(self, pool: FunctionPool, queue_arn: str, batch_size: int, window: float,
                        partial: bool, record_filter: RecordFilter | None = None,
                        maximum_concurrency: int | None = None) -> None:
        url = self._sqs.get_queue_url(QueueName=queue_name_from_arn(queue_arn))["QueueUrl"]
        handler = SqsBatchHandler(pool, queue_arn, self._p.region, partial, record_filter)
        # Several pollers, as Lambda runs (sqspolling.py); never more than may invoke the function at once.
        pollers = min(maximum_concurrency or DEFAULT_MAPPING_POLLERS, pool.concurrency_cap)
        self._poll(url, handler, f"esm-{pool.spec.name}", batch_size=batch_size, batching_window=window,
                   retry_visibility=self._visibility, max_pollers=pollers)
        self.summary.add(pool.spec.name, f"SQS {queue_name_from_arn(queue_arn)} (batch {batch_size})")

    def subscribe_topic(self, pool: FunctionPool, topic_arn: str, filter_policy: Any = None,
                        scope: str | None = None) -> None:
        """SNS -> function through an internal queue moto fills with the SNS envelope."""
        queue_url, queue_arn = self._internal_queue(f"sns-{pool.spec.name}")
        attributes = {}
        if filter_policy:
            attributes["FilterPolicy"] = filter_policy if isinstance(filter_policy, str) else json.dumps(filter_policy)
        if scope:
            attributes["FilterPolicyScope"] = scope
        subscription_arn = self._p.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes,
            ReturnSubscriptionArn=True)["SubscriptionArn"]

        def deliver(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            for message in messages:
                self._invoker.submit(pool, sns_event(json.loads(message["Body"]), subscription_arn))
            return messages

        self._poll(queue_url, deliver, f"sns-{pool.spec.name}")
        self.summary.add(pool.spec.name, f"SNS {topic_arn.rsplit(':', 1)[-1]}")

    def add_rule_delivery(self, rule: str, bus: str, label: str, deliver: Callable[[str], None],
                          input_json: str | None = None) -> None:
        """EventBridge -> anything local: each matched event's body (envelope or `Input`) goes to `deliver`."""
        queue_url, queue_arn = self._internal_queue(label)
        target: dict[str, Any] = {"Id": f"local-{label}"[:64], "Arn": queue_arn}
        if input_json is not None:
            target["Input"] = input_json
        self._p.client("events").put_targets(Rule=rule, EventBusName=bus, Targets=[target])

        def handle(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            for message in messages:
                deliver(message["Body"])
            return messages

        self._poll(queue_url, handle, label)

    def add_scheduled(self, expression: str, rule_arn: str, input_json: str | None,
                      deliver: Callable[[Any], None]) -> None:
        """A schedule firing `deliver` with its `Input` or the scheduled-event envelope."""
        def fire() -> None:
            deliver(json.loads(input_json) if input_json else scheduled_event(rule_arn, self._p.account_id,
                                                                               self._p.region))

        self._scheduler.add(next_fire_function(expression, self._time_scale), fire)

    def add_log_subscription(self, pool: FunctionPool, name: str, group: str, pattern: str) -> None:
        self._router.add(Subscription(name=name, group=group, matches=compile_pattern(pattern),
                                      deliver=lambda payload: self._invoker.submit(pool, payload),
                                      destination_group=pool.spec.log_group))
        self.summary.add(pool.spec.name, f"Logs {group} filter {pattern!r}")

    # -- CloudFormation resources ------------------------------------------------------------------
    def wire_resource(self, logical_id: str, rtype: str, props: dict[str, Any]) -> None:
        """Wire one (resolved) CloudFormation resource that delivers to functions; other types pass."""
        wire = self._WIRERS.get(rtype)
        if wire is None:
            return
        try:
            wire(self, logical_id, props)
        except (KeyError, ScheduleError, UnsupportedPattern) as exc:
            self._diag.unsupported(logical_id, "Properties", f"{exc}; this trigger never fires")

    def finish(self) -> None:
        """Called once every resource is wired: what needs them all (API stages) is added now."""
        self.apis.state_machines = self.state_machines
        self.apis.finish()

    def _wire_subscription(self, logical_id: str, props: dict[str, Any]) -> None:
        if props.get("Protocol") != "lambda":
            return  # other protocols are subscribed in moto by provisioning.py
        pool = self._function(logical_id, "Endpoint", props.get("Endpoint"))
        if pool:
            self.subscribe_topic(pool, props["TopicArn"], props.get("FilterPolicy"), props.get("FilterPolicyScope"))

    def _wire_topic(self, logical_id: str, props: dict[str, Any]) -> None:
        for sub in props.get("Subscription") or []:
            if sub.get("Protocol") == "lambda":
                pool = self._function(logical_id, "Subscription", sub.get("Endpoint"))
                if pool:
                    self.subscribe_topic(pool, self._resources[logical_id].ref)

    def _wire_log_filter(self, logical_id: str, props: dict[str, Any]) -> None:
        pool = self._function(logical_id, "DestinationArn", props.get("DestinationArn"))
        if pool:
            self.add_log_subscription(pool, logical_id, props["LogGroupName"], props.get("FilterPattern", ""))

    def _wire_schedule(self, logical_id: str, props: dict[str, Any]) -> None:
        self.schedules.wire(logical_id, str(props.get("Name") or f"{self._p.stack_name}-{logical_id}"), props)

    def _wire_api(self, logical_id: str, props: dict[str, Any]) -> None:
        info = self._resources[logical_id]
        self.apis.add_api(logical_id, info.type, str(info.ref), props)

    def _wire_stage(self, logical_id: str, props: dict[str, Any]) -> None:
        self.apis.add_stage(logical_id, props)

    def _wire_rule(self, logical_id: str, props: dict[str, Any]) -> None:
        rule = self._resources.get(logical_id)
        if rule is None:
            return
        if props.get("State") == "DISABLED":
            what = "schedule" if "ScheduleExpression" in props else "rule"
            self._diag.unsupported(logical_id, "State", f"the {what} is disabled in the template; it never fires")
            return
        bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
        deliveries = []
        for index, target in enumerate(props.get("Targets") or []):
            deliver = self.targets.delivery(logical_id, index, target)
            if deliver is not None:
                deliveries.append(deliver)
                self._note_target(str(target.get("Arn", "")), rule.ref, bus, props.get("ScheduleExpression"))
        if not deliveries:
            return

        def deliver_all(event: Any) -> None:
            for deliver in deliveries:
                deliver(event)

        if "ScheduleExpression" in props:
            rule_arn = rule.arn or ""
            self._scheduler.add(next_fire_function(props["ScheduleExpression"], self._time_scale),
                                lambda: deliver_all(scheduled_event(rule_arn, self._p.account_id, self._p.region)))
        else:
            self.add_rule_delivery(rule.ref, bus, f"rule-{rule.ref}", lambda body: deliver_all(
                delivered_event(json.loads(body), self._p.account_id, self._p.region)))

    def _note_target(self, arn: str, rule: str, bus: str, schedule: str | None) -> None:
        pool = self._by_arn.get(arn)
        owner = pool.spec.name if pool else arn.rsplit(":", 1)[-1]
        self.summary.add(owner, f"Schedule {schedule}" if schedule else f"EventBridge rule {rule} on {bus}")

    def _wire_mapping(self, logical_id: str, props: dict[str, Any]) -> None:
        source = str(props.get("EventSourceArn", ""))
        pool = self._function(logical_id, "FunctionName", props.get("FunctionName"))
        if pool is None:
            return
        if props.get("Enabled") is False:
            self._diag.unsupported(logical_id, "Enabled", "the mapping is disabled in the template; not polled")
            return
        if ":kinesis:" in source or (":dynamodb:" in source and "/stream/" in source):
            streammappings.add(self, logical_id, pool, source, props)
            return
        if ":sqs:" not in source:
            self._diag.unsupported(logical_id, "EventSourceArn", f"{source}: only SQS, Kinesis and DynamoDB "
                                   "stream mappings are emulated; this trigger never fires")
            return
        try:
            record_filter = compile_filters(props.get("FilterCriteria"))
        except PatternError as exc:
            self._diag.unsupported(logical_id, "FilterCriteria", f"{exc}; this trigger never fires")
            return
        scaling = props.get("ScalingConfig") or {}
        self.add_sqs_mapping(pool, source, int(props.get("BatchSize", 10)),
                             float(props.get("MaximumBatchingWindowInSeconds", 0)),
                             "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []), record_filter,
                             int(scaling["MaximumConcurrency"]) if scaling.get("MaximumConcurrency") else None)

    # -- helpers ------------------------------------------------------------------------------------
    def _function(self, logical_id: str, prop: str, reference: Any) -> FunctionPool | None:
        """The local function a name or ARN points at; a warning if it is not one of ours."""
        text = str(reference or "")
        pool = self._by_arn.get(text) or next((p for p in self._pools.values() if p.spec.name == text), None)
        if pool is None:
            self._diag.unsupported(logical_id, prop, f"{text or 'nothing'} is not a function of this template; "
                                   "not delivered")
        return pool

    def _wire_bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3notifications.wire_bucket(self, logical_id, props)

    _WIRERS = {
        "AWS::S3::Bucket": _wire_bucket,
        "AWS::SNS::Subscription": _wire_subscription,
        "AWS::SNS::Topic": _wire_topic,
        "AWS::Events::Rule": _wire_rule,
        "AWS::Lambda::EventSourceMapping": _wire_mapping,
        "AWS::Logs::SubscriptionFilter": _wire_log_filter,
        SCHEDULE_TYPE: _wire_schedule,
        REST_API: _wire_api,
        HTTP_API: _wire_api,
        STAGE_TYPES[0]: _wire_stage,
        STAGE_TYPES[1]: _wire_stage,
    }

    def _internal_queue(self, label: str) -> tuple[str, str]:
        index = sum(1 for p in self.pollers) + 1
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"hoptrace-local-{label}")[:75] + f"-{index}"
        url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, self._p.arn("sqs", name)

    def _poll(self, url: str, handle: Any, name: str, **kwargs: Any) -> None:
        self.pollers.append(QueuePoller(self._sqs, url, handle, name, wait_seconds=self._wait, **kwargs))
