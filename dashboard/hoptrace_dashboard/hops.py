"""What each span is in a request's journey: the hop that brought work here, and what a call went out to.

The layer records every hop from both ends: the sender as a client/producer span
(botocore's `rpc.service`/`rpc.method`, or an HTTP client span with `url.full`), the
receiver as an invocation span carrying `hoptrace.trigger` and the queue, topic or
detail-type it came through. The flow, the service map and the failure pages all ask this
module, so a hop has one name everywhere. Everything here works on one span at a time
(no joins), which is what lets the service map be aggregated per span by a store later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hoptrace import semconv
from hoptrace_collector.store import SpanRecord
from hoptrace_collector.store.rules import is_invocation_span

# Every name read here is the one the layer writes, from its vocabulary (`hoptrace.semconv`).
RPC_SERVICE = semconv.RPC_SERVICE
RPC_METHOD = semconv.RPC_METHOD
AWS_QUEUE_URL = semconv.AWS_QUEUE_URL_OLD
AWS_TOPIC_ARN = semconv.AWS_SNS_TOPIC_ARN
AWS_TABLE_NAMES = semconv.AWS_DYNAMODB_TABLE_NAMES
OLD_MESSAGING_DESTINATION = semconv.MESSAGING_DESTINATION_OLD
FAAS_INVOKED_NAME = semconv.FAAS_INVOKED_NAME
UPSTREAM = semconv.UPSTREAM
PLATFORM_OUTCOME = semconv.PLATFORM_OUTCOME

HTTP_TRIGGERS = {semconv.TRIGGER_APIGATEWAY: "API Gateway", semconv.TRIGGER_APIGATEWAY_HTTP: "API Gateway",
                 semconv.TRIGGER_FUNCTION_URL: "Function URL", semconv.TRIGGER_ALB: "ALB"}
MESSAGE_TRIGGERS = {semconv.TRIGGER_SQS: "SQS", semconv.TRIGGER_SNS: "SNS", semconv.TRIGGER_EVENTBRIDGE: "EventBridge",
                    semconv.TRIGGER_S3: "S3", semconv.TRIGGER_S3_EVENTBRIDGE: "S3",
                    semconv.TRIGGER_DYNAMODB: "DynamoDB Streams", semconv.TRIGGER_KINESIS: "Kinesis",
                    semconv.TRIGGER_FIREHOSE: "Firehose", semconv.TRIGGER_KAFKA: "Kafka",
                    semconv.TRIGGER_ACTIVEMQ: "ActiveMQ", semconv.TRIGGER_RABBITMQ: "RabbitMQ",
                    semconv.TRIGGER_SES: "SES"}
# A batch record's hop by its messaging system (SQS records also say what fed the queue).
RECORD_SYSTEMS = {"aws_s3": "S3", "aws_dynamodb": "DynamoDB Streams", "aws_kinesis": "Kinesis",
                  "aws_firehose": "Firehose", "kafka": "Kafka", "activemq": "ActiveMQ", "rabbitmq": "RabbitMQ",
                  "aws_ses": "SES", "aws_sns": "SNS"}
OTHER_TRIGGERS = {semconv.TRIGGER_INVOKE: "Invoke", semconv.TRIGGER_SCHEDULE: "Schedule",
                  semconv.TRIGGER_CLOUDWATCH_LOGS: "Logs"}
ASYNC_TRIGGERS = frozenset({semconv.TRIGGER_SNS, semconv.TRIGGER_EVENTBRIDGE, semconv.TRIGGER_INVOKE,
                            semconv.TRIGGER_SCHEDULE, semconv.TRIGGER_CLOUDWATCH_LOGS})


@dataclass(frozen=True)
class Hop:
    """How work arrived at an invocation: the hop type and what it crossed (queue, topic, detail type, host)."""

    type: str
    via: str = ""
    wait_ms: float | None = None


@dataclass(frozen=True)
class Node:
    """A box on the service map: a function, or a topic, queue, bus, table, API or host between functions."""

    kind: str  # function | topic | queue | bus | table | bucket | api | schedule | service
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        return self.name if self.kind == "function" else f"{KIND_LABELS.get(self.kind, self.kind)} {self.name}"


KIND_LABELS = {"topic": "SNS", "queue": "SQS", "bus": "EventBridge", "table": "DynamoDB", "bucket": "S3",
               "stream": "Kinesis",
               "api": "API", "schedule": "schedule", "service": "AWS"}


_DATA_SOURCES = {"S3": "bucket", "DynamoDB Streams": "table", "Kinesis": "stream"}
_UPSTREAMS = {semconv.TRIGGER_SNS: "SNS", semconv.TRIGGER_EVENTBRIDGE: "EventBridge", semconv.TRIGGER_S3: "S3"}


def last_part(name: Any, separator: str = ":") -> str:
    """`arn:aws:sns:…:order-events` → `order-events`, `https://…/123/payments` → `payments` (with '/')."""
    return str(name).rstrip(separator).rsplit(separator, 1)[-1] if name else ""


is_invocation = is_invocation_span  # one rule for the collector, the dashboard and alerts


def is_init(span: SpanRecord) -> bool:
    """The layer's `init <function>` span: the cold start's initialisation, paid by the request."""
    return span.kind == "internal" and semconv.INIT_DURATION_MS in span.attributes


def is_record(span: SpanRecord) -> bool:
    """A per-message `process` span inside a batch invocation (it has the message's queue wait)."""
    return (span.request_id is None and span.kind == "consumer"
            and span.attributes.get(semconv.MESSAGING_OPERATION) == "process")


def _host(value: Any) -> str:
    text = str(value or "")
    host = urlsplit(text).hostname if "://" in text else text.split(":", 1)[0]
    return host or ""


def inbound(span: SpanRecord) -> Hop | None:
    """The hop that delivered this invocation (or batch record), None for spans that are not arrivals."""
    a = span.attributes
    if is_record(span):
        upstream = str(a.get(UPSTREAM, ""))
        kind = RECORD_SYSTEMS.get(str(a.get(semconv.MESSAGING_SYSTEM, "")), "SQS")
        if kind == "SQS" and upstream:
            kind = f"{_UPSTREAMS.get(upstream.split(':', 1)[0], 'SQS')} → SQS"
        return Hop(kind, str(a.get(semconv.MESSAGING_DESTINATION, "")), _float(a.get(semconv.QUEUE_WAIT_MS)))
    if not is_invocation(span):
        return None
    trigger = span.trigger or ""
    if trigger in HTTP_TRIGGERS:
        route = a.get(semconv.HTTP_ROUTE) or a.get(semconv.URL_PATH) or ""
        return Hop(HTTP_TRIGGERS[trigger], f"{a.get(semconv.HTTP_METHOD, '')} {route}".strip())
    if trigger in MESSAGE_TRIGGERS:
        via = str(a.get(semconv.MESSAGING_DESTINATION, ""))
        if trigger == semconv.TRIGGER_EVENTBRIDGE and a.get(semconv.EVENTBRIDGE_SOURCE):
            via = f"{via} from {a[semconv.EVENTBRIDGE_SOURCE]}"
        return Hop(MESSAGE_TRIGGERS[trigger], via, _float(a.get(semconv.QUEUE_WAIT_MS)))
    if trigger in OTHER_TRIGGERS:
        return Hop(OTHER_TRIGGERS[trigger], span.name if trigger == semconv.TRIGGER_SCHEDULE else "")
    if trigger == semconv.TRIGGER_STEPFUNCTIONS:  # a state machine's Lambda task: the hop is its state
        return Hop("Step Functions", str(a.get(semconv.SFN_STATE_NAME, "")))
    return Hop("Invoke" if trigger in ("", semconv.TRIGGER_OTHER) else trigger)


def outbound(span: SpanRecord) -> Node | None:
    """What a client/producer span called: a topic, queue, bus, table, API host or function; None otherwise."""
    if span.kind not in ("client", "producer"):
        return None
    a = span.attributes
    service = str(a.get(RPC_SERVICE, ""))
    if service == "SNS":
        return Node("topic", last_part(a.get(semconv.MESSAGING_DESTINATION) or a.get(AWS_TOPIC_ARN) or "?"))
    if service == "SQS":
        queue = a.get(OLD_MESSAGING_DESTINATION) or a.get(semconv.MESSAGING_DESTINATION)
        return Node("queue", str(queue) if queue else last_part(a.get(AWS_QUEUE_URL, "?"), "/"))
    if service == "EventBridge":
        return Node("bus", "events")
    if service == "Lambda":
        return Node("function", str(a.get(FAAS_INVOKED_NAME) or "?"))
    if service == "DynamoDB":
        tables = a.get(AWS_TABLE_NAMES) or ["?"]
        return Node("table", str(tables[0] if isinstance(tables, list) else tables))
    if service == "S3":
        return Node("bucket", str(a.get(semconv.AWS_S3_BUCKET) or "buckets"))
    if service == "Kinesis":
        return Node("stream", str(a.get(semconv.AWS_KINESIS_STREAM) or "?"))
    if service:
        return Node("service", service)
    if semconv.URL_FULL in a or semconv.HTTP_METHOD in a:
        return Node("api", _host(a.get(semconv.SERVER_ADDRESS) or a.get(semconv.URL_FULL)) or "?")
    return None


def source_node(span: SpanRecord, hop: Hop) -> Node | None:
    """The map node an arrival came from, when the arrival names it (a direct Invoke's caller is its client span)."""
    a = span.attributes
    if hop.type in ("API Gateway", "Function URL", "ALB"):
        return Node("api", _host(a.get(semconv.SERVER_ADDRESS)) or hop.type)
    if hop.type == "SNS":
        return Node("topic", hop.via)
    if hop.type == "EventBridge":
        return Node("bus", "events")
    if hop.type == "Schedule":
        return Node("schedule", hop.via.removeprefix("schedule "))
    if hop.type.endswith("SQS"):
        return Node("queue", hop.via)
    if hop.type in _DATA_SOURCES:  # the bucket, table or stream the writer's client span also names
        return Node(_DATA_SOURCES[hop.type], hop.via)
    return None


def upstream_node(span: SpanRecord) -> Node | None:
    """For a queue record fed by SNS or EventBridge: what fed the queue (an edge the producer cannot see)."""
    upstream = str(span.attributes.get(UPSTREAM, ""))
    if upstream.startswith("sns:"):
        return Node("topic", upstream[4:])
    if upstream.startswith("eventbridge:"):
        return Node("bus", "events")
    return None


def call_label(span: SpanRecord) -> str:
    """A client span in words: `SNS Publish → order-events`, `HTTP GET api.shop.local`."""
    target = outbound(span)
    if target is None:
        return ""
    method = str(span.attributes.get(RPC_METHOD) or span.attributes.get(semconv.HTTP_METHOD) or "")
    kind = "HTTP" if target.kind == "api" else str(span.attributes.get(RPC_SERVICE, target.kind))
    return f"{kind} {method} → {target.name}".replace("  ", " ")


def error_of(span: SpanRecord) -> tuple[str, str, str]:
    """(type, message, stack) of a failed span: its last recorded exception, else its status message."""
    for event in reversed(span.events):
        if event.get("name") == "exception":
            a = event.get("attributes") or {}
            return (str(a.get(semconv.EXCEPTION_TYPE, "Exception")), str(a.get(semconv.EXCEPTION_MESSAGE, "")),
                    str(a.get(semconv.EXCEPTION_STACKTRACE, "")))
    outcome = span.attributes.get(PLATFORM_OUTCOME)
    if outcome:
        return f"platform: {outcome}", span.status_message, ""
    return "", span.status_message, ""


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
