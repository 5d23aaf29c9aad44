"""Step Functions in the layer: a task's input carrying the context object, and StartExecution's traceHeader."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hoptrace.config import Config
from hoptrace.outbound import stepfunctions
from hoptrace.statespans import entered_ms, state_span_id
from hoptrace.triggers import detect
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import run

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:OrderSaga:7c1a2b5e-1f4d-4b8e-9a0c-3d2e1f0a9b8c"
ENV_TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
XR = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_a_task_with_the_context_object_is_parented_on_its_state_span(monkeypatch):
    # GIVEN a Lambda task of a traced state machine (Step Functions sets _X_AMZN_TRACE_ID)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", ENV_TRACE)
    # WHEN the layer reads the task input that carries $$ under "context"
    invocation = detect(load_event("stepfunctions_task"), LambdaContext(), Config())
    # THEN it is a Step Functions task, in the execution's trace, under the state's span id
    assert invocation.trigger == "stepfunctions"
    assert invocation.parent.trace_id == int("5759e988bd862e3fe1be46a994272793", 16)
    assert invocation.parent.span_id == int(state_span_id(EXECUTION, "ChargePayment",
                                                          entered_ms("2019-03-26T20:14:13.405Z")), 16)
    assert invocation.attributes["hoptrace.sfn.execution_arn"] == EXECUTION
    assert invocation.attributes["hoptrace.sfn.state"] == "ChargePayment"
    assert invocation.attributes["hoptrace.sfn.retry_count"] == 1


@pytest.mark.parametrize("shape", ["flat", "whole", "pascal"])
def test_other_common_shapes_are_recognised(monkeypatch, shape):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", ENV_TRACE)
    context = load_event("stepfunctions_task")["context"]
    event: dict[str, Any] = {
        "flat": {"order_id": "1", "executionId": EXECUTION, "stateName": "Reserve",
                 "enteredTime": "2019-03-26T20:14:13.405Z"},
        "whole": context,
        "pascal": {"Input": {}, "ExecutionArn": EXECUTION, "StateName": "Reserve"},
    }[shape]
    invocation = detect(event, LambdaContext(), Config())
    assert invocation.trigger == "stepfunctions"
    assert invocation.attributes["hoptrace.sfn.execution_arn"] == EXECUTION


@pytest.mark.parametrize("event", [
    {"executionId": "not-an-arn"}, {"context": {"Execution": {"Id": 5}, "State": {}}},
    {"executionId": "arn:aws:states:us-east-1:123456789012:stateMachine:OrderSaga"},
    {"context": "$$"}, {"executionId": ["x"]},
])
def test_look_alikes_are_plain_invokes(event):
    assert detect(event, LambdaContext(), Config()).trigger == "invoke"


def test_without_a_trace_header_or_entered_time_the_task_still_runs_and_keeps_what_it_has(monkeypatch):
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    invocation = detect({"executionId": EXECUTION, "enteredTime": "garbage"}, LambdaContext(), Config())
    assert invocation.trigger == "stepfunctions" and invocation.parent is None


def test_start_execution_gets_a_trace_header_unless_the_caller_set_one():
    params: dict[str, Any] = {"stateMachineArn": "arn"}
    stepfunctions.start_execution(params, "tp", XR)
    assert params["traceHeader"] == XR
    mine = {"stateMachineArn": "arn", "traceHeader": "Root=1-00000001-000000000000000000000001"}
    stepfunctions.start_sync_execution(mine, "tp", XR)
    assert mine["traceHeader"] == "Root=1-00000001-000000000000000000000001"


def test_attributes_of_start_and_describe():
    assert stepfunctions.request_attributes("StartExecution", {"stateMachineArn": "m"}) == {
        "aws.step_functions.state_machine.arn": "m"}
    assert stepfunctions.response_attributes("StartSyncExecution", {}, {"executionArn": "e", "status": "FAILED",
                                                                        "error": "X"}) == {
        "hoptrace.sfn.execution_arn": "e", "hoptrace.sfn.execution_status": "FAILED", "hoptrace.sfn.error": "X"}
    assert stepfunctions.request_attributes("ListStateMachines", {}) == {}


def test_real_botocore_start_execution_carries_the_client_span_as_trace_header():
    client = boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    seen: dict[str, Any] = {}
    client.meta.events.register("before-parameter-build.stepfunctions.StartExecution",
                                lambda params, **_: seen.update(params))
    stubber = Stubber(client)
    stubber.add_response("start_execution", {"executionArn": EXECUTION, "startDate": 0})

    def handler(event: Any, context: Any) -> Any:
        with stubber:
            client.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:OrderSaga",
                                   input="{}")
        return "ok"

    _, _, spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    client_span = next(s for s in spans if s["attributes"].get("rpc.method") == "StartExecution")
    trace = client_span["trace_id"]
    assert seen["traceHeader"] == f"Root=1-{trace[:8]}-{trace[8:]};Parent={client_span['span_id']};Sampled=1"
    # AND the client span names the state machine and the execution it started
    assert client_span["attributes"]["hoptrace.sfn.execution_arn"] == EXECUTION
    assert client_span["attributes"]["aws.step_functions.state_machine.arn"].endswith(":stateMachine:OrderSaga")
