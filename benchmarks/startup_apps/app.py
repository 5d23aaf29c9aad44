"""The measured handlers, the same code for every peer (user code: boto3 only).

- `sqs_handler`: sends one SQS message to the local cloud's moto server (the cold-start case).
- `noop`: makes no AWS call (1 span: the invocation).
- `three_calls`: three SDK calls answered in-process by botocore's Stubber (4 spans: the invocation and
  three client spans), so the tracers' own cost is measured without a network round trip's jitter.
- `three_spans`: here, the same loop with no tracer; each peer's module makes three spans of its own
  with its own API (manual_otel.py, manual_xray.py, powertools_app.py).
"""

import os

import boto3
from botocore.stub import Stubber

sqs = boto3.client("sqs")
stubbed = boto3.client("sqs")
stubber = Stubber(stubbed)
stubber.activate()
_REPLY = {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "MD5OfMessageBody": "f3ff6a5ad5ec1cbbd4e4e2e4c5b0e0d4"}


def sqs_handler(event, context):
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="bench")
    return {"statusCode": 200}


def noop(event, context):
    return {"statusCode": 200}


def three_calls(event, context):
    for _ in range(3):
        stubber.add_response("send_message", _REPLY)
        stubbed.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="bench")
    return {"statusCode": 200}


def three_spans(event, context):
    for step in range(3):
        str(step)
    return {"statusCode": 200}
