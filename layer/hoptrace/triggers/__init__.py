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
from types import ModuleType
from typing import Any

from hoptrace.config import Config
from hoptrace.triggers.model import Invocation, Record

# Module names, in the order they are tried. Imported only when reached: an SQS function's cold
# start loads the seven modules tried before `sqs`, not all of them.
TRIGGERS = (
    "apigateway_authorizer", "apigateway_websocket", "vpc_lattice", "alb", "apigateway_http", "apigateway_rest",
    "sqs", "sns", "s3", "dynamodb", "kinesis", "ses", "codecommit", "cloudfront",
    "kafka", "activemq", "rabbitmq", "firehose", "s3_batch", "s3_object_lambda",
    "s3_eventbridge", "cloudwatch_alarm", "schedule", "eventbridge", "cloudwatch_logs",
    "cognito", "cloudformation", "secrets_manager", "aws_config", "codepipeline", "codedeploy",
    "appsync", "lex", "connect", "bedrock_agent", "iot",
    # Last: a Step Functions task input is any object carrying the context object, so every envelope goes first.
    "stepfunctions",
)
_loaded: list[ModuleType] = []  # TRIGGERS[:len(_loaded)], imported

__all__ = ["TRIGGERS", "Invocation", "Record", "detect", "trigger"]


def trigger(position: int) -> ModuleType:
    """The trigger module at `position` of `TRIGGERS`, imported on first use."""
    while len(_loaded) <= position:
        _loaded.append(importlib.import_module(f"hoptrace.triggers.{TRIGGERS[len(_loaded)]}"))
    return _loaded[position]


def _invoke() -> ModuleType:
    from hoptrace.triggers import invoke

    return invoke


def detect(event: Any, context: Any, config: Config) -> Invocation:
    """The first trigger that claims the event describes it; anything else is a direct invoke."""
    if isinstance(event, dict):
        loaded = _loaded
        for position in range(len(TRIGGERS)):
            module = loaded[position] if position < len(loaded) else trigger(position)
            if module.matches(event):
                return module.extract(event, context, config)
    return _invoke().extract(event, context, config)
