"""The layer attached to a real SAM app in the local cloud: one trace across processes and hops.

Functions run as separate worker processes started from the template (cold starts are
real), talk to moto's server over HTTP, and write their spans to their own logs, exactly
the path spans take on AWS. Nothing in the handlers knows about hoptrace.
"""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

import pytest

import hoptrace
from hoptrace_localcloud.cloud import LocalCloud
from tests.layer.spans import decode_output

pytestmark = pytest.mark.e2e

LAYER_SOURCE = Path(hoptrace.__file__).parent
TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
    Layers: [!Ref HoptraceLayer]
Resources:
  HoptraceLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
  OrdersTopic:
    Type: AWS::SNS::Topic
  PaymentsQueue:
    Type: AWS::SQS::Queue
  PaymentsSubscription:
    Type: AWS::SNS::Subscription
    Properties: {TopicArn: !Ref OrdersTopic, Protocol: sqs, Endpoint: !GetAtt PaymentsQueue.Arn}
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: shop}
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: orders/
      Handler: app.handler
      Environment:
        Variables: {TOPIC_ARN: !Ref OrdersTopic, AWS_LAMBDA_EXEC_WRAPPER: /opt/hoptrace-exec-wrapper}
      Events:
        Create: {Type: HttpApi, Properties: {Path: /orders, Method: post}}
  PaymentsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: payments/
      Handler: hoptrace.handler.handler
      Environment:
        Variables: {HOPTRACE_HANDLER: app.handler, BUS: !Ref Bus}
      Events:
        Queue: {Type: SQS, Properties: {Queue: !GetAtt PaymentsQueue.Arn, BatchSize: 10}}
  InvoicesFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: invoices/
      Handler: app.handler
      Environment:
        Variables: {AWS_LAMBDA_EXEC_WRAPPER: /opt/hoptrace-exec-wrapper}
      Events:
        Paid:
          Type: EventBridgeRule
          Properties: {EventBusName: !Ref Bus, Pattern: {source: [shop.payments]}}
"""
HANDLERS = {
    "orders": """
import json, os, boto3
sns = boto3.client("sns")
def handler(event, context):
    sns.publish(TopicArn=os.environ["TOPIC_ARN"], Message=event["body"])
    return {"statusCode": 201, "body": json.dumps({"ok": True})}
""",
    "payments": """
import os, boto3
events = boto3.client("events")
def handler(event, context):
    for record in event["Records"]:
        events.put_events(Entries=[{"Source": "shop.payments", "DetailType": "PaymentSucceeded",
                                    "Detail": '{"paid": true}', "EventBusName": os.environ["BUS"]}])
    return {"batchItemFailures": []}
""",
    "invoices": """
def handler(event, context):
    return {"invoice": event["detail"]["paid"]}
""",
}
TRACE = "5759e988bd862e3fe1be46a994272793"


def build_app(root: Path, template_text: str = TEMPLATE, handlers: dict[str, str] = HANDLERS) -> Path:
    """A SAM app in `root`: the layer from this checkout under `layer/`, one folder per handler."""
    layer = root / "layer"
    shutil.copytree(LAYER_SOURCE, layer / "python" / "hoptrace", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(LAYER_SOURCE / "bin" / "exec-wrapper", layer / "hoptrace-exec-wrapper")
    for name, code in handlers.items():
        (root / name).mkdir()
        (root / name / "app.py").write_text(code)
    template = root / "template.yaml"
    template.write_text(template_text)
    return template


def spans_of(cloud: LocalCloud, function: str) -> list[dict]:
    return decode_output("\n".join(cloud.log_lines(function)))[0]


COMPRESSED = TEMPLATE.replace("    Layers: [!Ref HoptraceLayer]\n", "    Layers: [!Ref HoptraceLayer]\n"
                              "    Environment:\n      Variables: {HOPTRACE_COMPRESS_LINES: 'true'}\n")


@pytest.mark.parametrize("template_text", [TEMPLATE, COMPRESSED], ids=["plain lines", "compressed lines"])
def test_request_keeps_one_trace_across_api_sns_sqs_eventbridge(tmp_path: Path, template_text: str) -> None:
    template = build_app(tmp_path, template_text)
    with LocalCloud(template, sqs_visibility_timeout=2) as cloud:
        # GIVEN a client that sends a traceparent / WHEN it creates an order over HTTP
        request = urllib.request.Request(
            f"{cloud.api_url}/orders", data=b'{"item": "book"}', method="POST",
            headers={"Content-Type": "application/json", "traceparent": f"00-{TRACE}-53995c3f42cd8ad8-01"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        cloud.wait_for_log("InvoicesFunction", "HOPTRACE ", timeout=30)
        time.sleep(0.2)
        orders, payments, invoices = (spans_of(cloud, f) for f in
                                      ("OrdersFunction", "PaymentsFunction", "InvoicesFunction"))
        span_lines = [line for line in cloud.log_lines("OrdersFunction") if line.startswith("HOPTRACE ")]
    # (the Globals setting reaches every function: its lines are deflated, and read back the same)
    assert span_lines and all(line.startswith("HOPTRACE z1:") == (template_text is COMPRESSED)
                              for line in span_lines)

    def invocation(spans: list[dict]) -> dict:
        return next(s for s in spans if "faas.coldstart" in s["attributes"])

    # THEN every function's invocation is in the client's trace, each a child of the call that reached it
    api, pay, inv = invocation(orders), invocation(payments), invocation(invoices)
    assert {api["trace_id"], pay["trace_id"], inv["trace_id"]} == {TRACE}
    assert api["parent_id"] == "53995c3f42cd8ad8"
    publish = next(s for s in orders if s["attributes"].get("rpc.method") == "Publish")
    put_events = next(s for s in payments if s["attributes"].get("rpc.method") == "PutEvents")
    assert pay["parent_id"] == publish["span_id"] and publish["parent_id"] == api["span_id"]
    assert inv["parent_id"] == put_events["span_id"]
    # AND each was a real cold start in its own process, with its init measured
    for span in (api, pay, inv):
        assert span["attributes"]["faas.coldstart"] is True
        assert span["attributes"]["hoptrace.init_duration_ms"] > 0
    assert inv["attributes"]["faas.trigger"] == "pubsub"
