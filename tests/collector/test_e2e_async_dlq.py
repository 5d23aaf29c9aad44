"""An asynchronous invocation that exhausts its retries ends its trace at the function's DLQ, with its exception.

A traced function invoked asynchronously (an EventBridge-shaped event carrying the trace) fails every
attempt; Lambda (the local cloud) retries once, then sends the event to the function's dead-letter
queue. The real collector stores the spans and log lines, the DLQ watcher peeks at the queue, and the
trace's end, as the dashboard computes it, is that DLQ with the exception the function logged.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hoptrace_collector.dlq import watch
from hoptrace_collector.store import open_store
from hoptrace_dashboard import tracelogs
from hoptrace_localcloud.cloud import LocalCloud
from tests.collector.test_e2e_localcloud import wait_for
from tests.conftest import load_event

pytestmark = pytest.mark.e2e

TRACE = "6b0f0e350773e82c3cba16fa34b00ee3"
NOTIFY = """  NotifyDLQ:
    Type: AWS::SQS::Queue
  NotifyFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: notify
      CodeUri: notify/
      Handler: hoptrace.handler.handler
      Layers: [!Ref HoptraceLayer]
      Environment: {Variables: {HOPTRACE_HANDLER: app.handler}}
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt NotifyDLQ.Arn}
      EventInvokeConfig: {MaximumRetryAttempts: 1}
  NotifyLogs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${NotifyFunction}"}
"""
APP = """
class ProviderUnavailable(RuntimeError):
    pass


def handler(event, context):
    print(f"sending {event['detail']['order_id']}")
    raise ProviderUnavailable("email provider returned 503")
"""


def test_exhausted_async_retries_end_at_the_dlq_with_the_exception(
        collector_cloud: tuple[LocalCloud, Path, str]) -> None:
    cloud, root, store_url = collector_cloud  # (the session's, shared with the other collector e2e modules)
    event = load_event("eventbridge")
    event["detail"] = {"order_id": "o-7", "_hoptrace": {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}}
    # WHEN the event is delivered asynchronously and every attempt fails
    cloud.invoke_async("NotifyFunction", event)
    sqs = cloud.client("sqs")
    dlq_url = cloud.resource("NotifyDLQ").url
    wait_for(lambda: int(sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]) == 1, timeout=60)
    while not (root / "spans.db").exists():
        time.sleep(0.1)
    store = open_store(store_url)
    wait_for(lambda: len([s for s in store.get_trace(TRACE) if s.status == "error" and s.request_id]) == 2
             and len(store.invocation_logs([("notify", s.request_id) for s in store.get_trace(TRACE)
                                            if s.request_id])) >= 4, timeout=60)
    # AND the DLQ watcher peeks at the queue
    watch(sqs, store, [dlq_url])
    spans = store.get_trace(TRACE)
    [end] = tracelogs.dlq_ends(store, TRACE, spans, tracelogs.trace_logs(store, spans))
    # THEN the trace ends at that DLQ, with the exception the function raised, as logged and as reported
    assert end.queue == dlq_url.rsplit("/", 1)[1]
    assert "email provider returned 503" in end.error
    assert any(line.is_error and "ProviderUnavailable: email provider returned 503" in line.message
               for line in end.cause), end.cause
    store.close()
