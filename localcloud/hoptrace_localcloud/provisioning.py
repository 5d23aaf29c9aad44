"""Creates the template's managed resources (SQS, SNS, EventBridge, DynamoDB, S3, Logs) in moto.

Deliveries *to functions* (Lambda subscriptions and rule targets) are left to `triggers.py`: moto cannot
invoke our workers, so those are wired through internal queues there.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostics
from .kinesisstreams import create_stream
from .resources import ResourceInfo

# Types that only matter for permissions or deployment on AWS: nothing to emulate locally.
NO_OP_TYPES = frozenset({
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission",
    "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::Events::Archive",
    "AWS::Serverless::Application", "AWS::CloudWatch::Alarm", "AWS::Lambda::Version", "AWS::Lambda::Alias",
    "AWS::ApiGateway::Deployment", "AWS::ApiGatewayV2::Deployment", "AWS::Scheduler::ScheduleGroup",
})
# Types the local cloud emulates outside moto (triggers.py and the modules it dispatches to).
WIRED_TYPES = frozenset({
    "AWS::Lambda::EventSourceMapping", "AWS::Logs::SubscriptionFilter", "AWS::Lambda::EventInvokeConfig",
    "AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage", "AWS::Scheduler::Schedule",
})


@dataclass
class Provisioner:
    """The moto clients and naming rules resources are created with."""

    client: Callable[[str], Any]
    region: str
    account_id: str
    stack_name: str
    diagnostics: Diagnostics

    def physical_name(self, logical_id: str, props: dict[str, Any], key: str, max_len: int = 80) -> str:
        return str(props.get(key) or f"{self.stack_name}-{logical_id}"[:max_len])

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def create(self, logical_id: str, rtype: str, props: dict[str, Any]) -> ResourceInfo | None:
        creator = _CREATORS.get(rtype)
        if creator is not None:
            return creator(self, logical_id, props)
        if rtype in NO_OP_TYPES or rtype in WIRED_TYPES:  # known, so references to it resolve
            return ResourceInfo(logical_id, rtype, logical_id)
        self.diagnostics.unsupported(logical_id, "Type", f"{rtype} is not emulated; resource skipped")
        return None


def queue_name_from_arn(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _queue(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "QueueName")
    if props.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    attributes: dict[str, str] = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
                "MaximumMessageSize", "FifoQueue", "ContentBasedDeduplication"):
        if key in props:
            value = props[key]
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if "RedrivePolicy" in props:
        policy = props["RedrivePolicy"]
        attributes["RedrivePolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    url = p.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = p.arn("sqs", name)
    return ResourceInfo(logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def _topic(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "TopicName", 256)
    attributes = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
    if attributes and not name.endswith(".fifo"):
        name += ".fifo"
    arn = p.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
    for index, sub in enumerate(props.get("Subscription") or []):
        if sub.get("Protocol") != "lambda":  # lambda subscriptions are wired by triggers.py
            _subscribe(p, f"{logical_id}.Subscription[{index}]", arn, sub)
    return ResourceInfo(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})


def _subscribe(p: Provisioner, logical_id: str, topic_arn: str, props: dict[str, Any]) -> str | None:
    protocol = props.get("Protocol")
    if protocol != "sqs":
        p.diagnostics.unsupported(logical_id, "Protocol", f"{protocol!r} subscriptions are not delivered locally")
        return None
    attributes = {}
    if "RawMessageDelivery" in props:
        attributes["RawMessageDelivery"] = str(props["RawMessageDelivery"]).lower()
    if "FilterPolicy" in props:
        policy = props["FilterPolicy"]
        attributes["FilterPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
    if "FilterPolicyScope" in props:
        attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
    return p.client("sns").subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=props["Endpoint"], Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]


def _subscription(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo | None:
    if props.get("Protocol") == "lambda":
        return ResourceInfo(logical_id, "AWS::SNS::Subscription", f"{props.get('TopicArn')}:lambda")
    arn = _subscribe(p, logical_id, props["TopicArn"], props)
    return ResourceInfo(logical_id, "AWS::SNS::Subscription", arn) if arn else None


def _event_bus(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "Name", 256)
    arn = p.client("events").create_event_bus(Name=name)["EventBusArn"]
    return ResourceInfo(logical_id, "AWS::Events::EventBus", name, {"Arn": arn, "Name": name})


def _rule(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "Name", 64)
    bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
    kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if "ScheduleExpression" in props:
        kwargs["ScheduleExpression"] = props["ScheduleExpression"]
    arn = p.client("events").put_rule(**kwargs)["RuleArn"]
    # Targets are delivered by the local cloud (ruletargets.py): moto only matches the pattern.
    return ResourceInfo(logical_id, "AWS::Events::Rule", name, {"Arn": arn, "Name": name})


def _key_type(value: str) -> str:
    return {"String": "S", "Number": "N", "Binary": "B"}.get(value, value)


def _table(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "TableName", 255)
    kwargs: dict[str, Any] = {"TableName": name, "KeySchema": props["KeySchema"],
                              "AttributeDefinitions": props["AttributeDefinitions"]}
    if props.get("BillingMode") == "PAY_PER_REQUEST" or "ProvisionedThroughput" not in props:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    else:
        kwargs["ProvisionedThroughput"] = {k: int(v) for k, v in props["ProvisionedThroughput"].items()}
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in props:
            kwargs[key] = props[key]
            if key == "StreamSpecification":
                kwargs[key] = {"StreamEnabled": True, **props[key]}
    description = p.client("dynamodb").create_table(**kwargs)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        p.client("dynamodb").update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    attributes = {"Arn": description["TableArn"], "TableName": name}
    if description.get("LatestStreamArn"):
        attributes["StreamArn"] = description["LatestStreamArn"]
    return ResourceInfo(logical_id, "AWS::DynamoDB::Table", name, attributes)


def _simple_table(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    table_props = {
        "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": _key_type(key["Type"])}],
    }
    if "TableName" in props:
        table_props["TableName"] = props["TableName"]
    if "ProvisionedThroughput" in props:
        table_props["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    return _table(p, logical_id, table_props)


def _bucket(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "BucketName", 63).lower()
    kwargs: dict[str, Any] = {"Bucket": name}
    if p.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": p.region}
    p.client("s3").create_bucket(**kwargs)
    return ResourceInfo(logical_id, "AWS::S3::Bucket", name, {
        "Arn": f"arn:aws:s3:::{name}", "BucketName": name, "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{p.region}.amazonaws.com",
    })


def _log_group(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "LogGroupName", 512)
    logs = p.client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups"):
        logs.create_log_group(logGroupName=name)
    return ResourceInfo(logical_id, "AWS::Logs::LogGroup", name, {"Arn": p.arn("logs", f"log-group:{name}:*")})


def _secret(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "Name", 512)
    value = props.get("SecretString")
    if value is None:  # GenerateSecretString: a random password, inside the template JSON when asked
        generate = props.get("GenerateSecretString") or {}
        length = int(generate.get("PasswordLength", 32))
        password = secrets.token_urlsafe(length)[:length]
        template, key = generate.get("SecretStringTemplate"), generate.get("GenerateStringKey")
        value = json.dumps({**json.loads(template), key: password}) if template and key else password
    arn = p.client("secretsmanager").create_secret(Name=name, SecretString=str(value))["ARN"]
    return ResourceInfo(logical_id, "AWS::SecretsManager::Secret", arn, {"Id": arn, "Arn": arn})


def _parameter(p: Provisioner, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "Name", 2048)
    kind = str(props.get("Type", "String"))
    p.client("ssm").put_parameter(Name=name, Value=str(props.get("Value", "")), Type=kind, Overwrite=True)
    return ResourceInfo(logical_id, "AWS::SSM::Parameter", name, {"Type": kind, "Value": str(props.get("Value", ""))})


_CREATORS: dict[str, Callable[[Provisioner, str, dict[str, Any]], ResourceInfo | None]] = {
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::DynamoDB::Table": _table,
    "AWS::Serverless::SimpleTable": _simple_table,
    "AWS::S3::Bucket": _bucket,
    "AWS::Kinesis::Stream": create_stream,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SSM::Parameter": _parameter,
}
