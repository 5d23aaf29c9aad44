"""The two engines write the same lines: every event fixture through both, with fixed ids and clock."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hoptrace import coldstart
from hoptrace.engine.ids import FixedIds
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, all_event_names, load_event
from tests.layer.conftest import use_engine
from tests.layer.spans import run


class Declined(RuntimeError):
    pass


def echo(event: Any, context: Any) -> Any:
    return {"statusCode": 200, "batchItemFailures": [{"itemIdentifier": "11111111-0000-4000-8000-000000000002"}]}


def fails(event: Any, context: Any) -> Any:
    raise Declined("card declined")


def calls_aws(event: Any, context: Any) -> Any:
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sqs) as stub:
        stub.add_response("send_message", {"MessageId": "m-1", "ResponseMetadata": {"RequestId": "r-1",
                                                                                   "HTTPStatusCode": 200}})
        stub.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue", http_status_code=400)
        for record in event.get("Records", [None])[:1]:
            sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/orders", MessageBody="x")
            try:
                sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/missing", MessageBody=str(record))
            except Exception:
                pass
    return "ok"


def lines_of(engine_name: str, handler: Callable[..., Any], event: Any, monkeypatch: pytest.MonkeyPatch,
             now_ns: int) -> str:
    monkeypatch.setattr("time.time", lambda: now_ns / 1e9)  # queue wait is measured from time.time()
    clock = itertools.count(now_ns, 1_000).__next__
    use_engine(engine_name, ids=FixedIds(), clock=clock)
    coldstart._FIRST = True
    _, _, _, text = run(wrap(handler), copy.deepcopy(event), LambdaContext())
    return text


@pytest.mark.parametrize("handler", [echo, fails, calls_aws], ids=["returns", "raises", "aws-calls"])
@pytest.mark.parametrize("name", all_event_names())
def test_both_engines_write_the_same_lines(name: str, handler: Callable[..., Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the same event, ids and clock / WHEN each engine traces the same handler
    event = load_event(name)
    now_ns = time.time_ns()
    light = lines_of("light", handler, event, monkeypatch, now_ns)
    otel = lines_of("otel", handler, event, monkeypatch, now_ns)
    # THEN their output is byte for byte the same
    assert light.startswith("HOPTRACE ") and light == otel
