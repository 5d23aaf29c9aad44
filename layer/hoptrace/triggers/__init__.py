"""Trigger registry: which AWS service invoked the function, and what it carried.

Each module here reads one event shape and exposes `matches(event)` and
`extract(event, context, config)`. They are tried in the explicit order of `TRIGGERS`
and the first match wins, so shapes that overlap are decided by position, never by
whichever check ran last: authorizers before the HTTP triggers (a REQUEST authorizer
carries the request's method, path and headers), WebSocket and VPC Lattice before ALB and
the REST API, S3-through-EventBridge and alarms before the schedule and EventBridge.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast

from hoptrace.config import Config
from hoptrace.triggers.model import Invocation, Record

if TYPE_CHECKING:
    from typing import Protocol

    class TriggerModule(Protocol):
        """What every module named in `TRIGGERS` (and `invoke`) defines."""

        def matches(self, event: dict[str, Any]) -> bool: ...
        def extract(self, event: dict[str, Any], context: Any, config: Config) -> Invocation: ...

# Module names, in the order they are tried. Imported only when reached and possibly matching: an SQS
# function's first invocation loads `sqs` and the few tried before it that share its keys.
TRIGGERS = (
    "apigateway_authorizer", "apigateway_websocket", "vpc_lattice", "alb", "apigateway_http", "apigateway_rest",
    "sqs", "sns", "s3", "dynamodb", "kinesis", "ses", "codecommit", "cloudfront",
    "kafka", "activemq", "rabbitmq", "firehose", "s3_batch", "s3_object_lambda",
    "s3_eventbridge", "cloudwatch_alarm", "schedule", "eventbridge", "cloudwatch_logs",
    "cognito", "cloudformation", "secrets_manager", "aws_config", "codepipeline", "codedeploy",
    "appsync", "appsync_authorizer", "lex", "connect", "bedrock_agent", "iot",
    # Last: a Step Functions task input is any object carrying the context object, so every envelope goes first.
    "stepfunctions",
)
# A trigger here can only match an event holding one of these top-level keys (its `matches` reads
# them first), so an event without any of them skips it without importing it: a direct invoke's first
# invocation loads no trigger module it cannot match. A trigger missing here is always tried.
# tests/layer/test_trigger_registry.py checks each entry against its module's `matches`.
NEEDS_ONE_OF: dict[str, tuple[str, ...]] = {
    "apigateway_authorizer": ("type",), "apigateway_websocket": ("requestContext",), "vpc_lattice": ("method",),
    "alb": ("requestContext",), "apigateway_http": ("requestContext",), "apigateway_rest": ("httpMethod",),
    "sqs": ("Records",), "sns": ("Records",), "s3": ("Records",), "dynamodb": ("Records",), "kinesis": ("Records",),
    "ses": ("Records",), "codecommit": ("Records",), "cloudfront": ("Records",), "kafka": ("eventSource",),
    "activemq": ("eventSource",), "rabbitmq": ("eventSource",), "firehose": ("deliveryStreamArn",),
    "s3_batch": ("invocationSchemaVersion",), "s3_object_lambda": ("getObjectContext",), "s3_eventbridge": ("source",),
    "cloudwatch_alarm": ("source",), "schedule": ("detail-type",), "eventbridge": ("detail-type",),
    "cloudwatch_logs": ("awslogs",), "cognito": ("triggerSource",), "cloudformation": ("RequestType",),
    "secrets_manager": ("SecretId",), "aws_config": ("configRuleName",), "codepipeline": ("CodePipeline.job",),
    "codedeploy": ("DeploymentId",), "appsync": ("info",), "appsync_authorizer": ("authorizationToken",),
    "lex": ("bot",), "connect": ("Name",),
    "bedrock_agent": ("agent",), "iot": ("protocolData", "eventType"),
}
_NEEDS = tuple(NEEDS_ONE_OF.get(name) for name in TRIGGERS)
_ALWAYS = tuple(position for position, needs in enumerate(_NEEDS) if needs is None)
_BY_KEY: dict[str, tuple[int, ...]] = {}
for _position, _needs in enumerate(_NEEDS):
    for _key in _needs or ():
        _BY_KEY[_key] = (*_BY_KEY.get(_key, ()), _position)
_modules: list[TriggerModule | None] = [None] * len(TRIGGERS)  # imported on first use
# The positions worth trying for an event with these top-level keys, in `TRIGGERS` order. A function
# meets few event shapes, so after its first invocation finding the candidates is one lookup.
_CANDIDATES: dict[frozenset[str], tuple[int, ...]] = {}
_MAX_SHAPES = 256

__all__ = ["TRIGGERS", "Invocation", "Record", "detect", "trigger"]


def trigger(position: int) -> TriggerModule:
    """The trigger module at `position` of `TRIGGERS`, imported on first use."""
    module = _modules[position]
    if module is None:
        module = _modules[position] = cast("TriggerModule",
                                           importlib.import_module(f"hoptrace.triggers.{TRIGGERS[position]}"))
    return module


def _invoke() -> TriggerModule:
    from hoptrace.triggers import invoke

    return invoke


def detect(event: Any, context: Any, config: Config) -> Invocation:
    """The first trigger that claims the event describes it; anything else is a direct invoke."""
    if isinstance(event, dict):
        shape = frozenset(event)
        for position in _CANDIDATES.get(shape) or _candidates(shape):
            module = _modules[position] or trigger(position)
            if module.matches(event):
                return module.extract(event, context, config)
    return _invoke().extract(event, context, config)


def _candidates(shape: frozenset[Any]) -> tuple[int, ...]:
    """The triggers that could match an event with these top-level keys (the others are skipped, and never
    imported for it); worked out once per shape (`detect` looks in `_CANDIDATES` first)."""
    positions = set(_ALWAYS)
    for key in shape:
        positions.update(_BY_KEY.get(key, ()) if type(key) is str else ())
    found = tuple(sorted(positions))
    if len(_CANDIDATES) >= _MAX_SHAPES:
        _CANDIDATES.clear()
    _CANDIDATES[shape] = found
    return found
