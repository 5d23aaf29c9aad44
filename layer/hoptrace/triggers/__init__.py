"""Trigger registry: which AWS service invoked the function, and what it carried.

Each module here reads one event shape and exposes `matches(event)` and
`extract(event, context, config)`. They are tried in the explicit order of `TRIGGERS`
and the first match wins, so shapes that overlap are decided by position, never by
whichever check ran last: authorizers before the HTTP triggers (a REQUEST authorizer
carries the request's method, path and headers), WebSocket and VPC Lattice before ALB and
the REST API, S3-through-EventBridge and alarms before the schedule and EventBridge.
"""

from __future__ import annotations

from typing import Any

from hoptrace.config import Config
from hoptrace.triggers import (
    activemq,
    alb,
    apigateway_authorizer,
    apigateway_http,
    apigateway_rest,
    apigateway_websocket,
    appsync,
    aws_config,
    bedrock_agent,
    cloudformation,
    cloudfront,
    cloudwatch_alarm,
    cloudwatch_logs,
    codecommit,
    codedeploy,
    codepipeline,
    cognito,
    connect,
    dynamodb,
    eventbridge,
    firehose,
    invoke,
    iot,
    kafka,
    kinesis,
    lex,
    rabbitmq,
    s3,
    s3_batch,
    s3_eventbridge,
    s3_object_lambda,
    schedule,
    secrets_manager,
    ses,
    sns,
    sqs,
    stepfunctions,
    vpc_lattice,
)
from hoptrace.triggers.model import Invocation, Record

TRIGGERS = (
    apigateway_authorizer, apigateway_websocket, vpc_lattice, alb, apigateway_http, apigateway_rest,
    sqs, sns, s3, dynamodb, kinesis, ses, codecommit, cloudfront,
    kafka, activemq, rabbitmq, firehose, s3_batch, s3_object_lambda,
    s3_eventbridge, cloudwatch_alarm, schedule, eventbridge, cloudwatch_logs,
    cognito, cloudformation, secrets_manager, aws_config, codepipeline, codedeploy,
    appsync, lex, connect, bedrock_agent, iot,
    # Last: a Step Functions task input is any object carrying the context object, so every envelope goes first.
    stepfunctions,
)

__all__ = ["TRIGGERS", "Invocation", "Record", "detect"]


def detect(event: Any, context: Any, config: Config) -> Invocation:
    """The first trigger that claims the event describes it; anything else is a direct invoke."""
    if isinstance(event, dict):
        for trigger in TRIGGERS:
            if trigger.matches(event):
                return trigger.extract(event, context, config)
    return invoke.extract(event, context, config)
