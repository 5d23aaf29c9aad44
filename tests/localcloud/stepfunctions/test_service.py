"""The Step Functions API the local cloud answers: errors as AWS names them, status-change events, stop."""

from __future__ import annotations

import json
import time

import pytest

from hoptrace_localcloud.stepfunctions import api
from hoptrace_localcloud.stepfunctions.service import ApiError, StepFunctionsService
from hoptrace_localcloud.stepfunctions.tasks import TaskRunner


class FakeClients:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def __call__(self, service: str):
        clients = self

        class Client:
            def create_state_machine(self, name, **kwargs):
                return {"stateMachineArn": f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"}

            def put_events(self, Entries):
                clients.events.extend(Entries)

        return Client()


@pytest.fixture
def service():
    clients = FakeClients()
    svc = StepFunctionsService("us-east-1", "123456789012", TaskRunner("us-east-1", None, clients), clients,
                               time_scale=1.0)
    svc.clients = clients
    yield svc
    svc.shutdown()


WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def test_start_validates_name_input_and_uniqueness(service):
    machine, _ = service.register("m", PASS, "arn:aws:iam::123456789012:role/r")
    for name, text, code in (("has space", "{}", "InvalidName"), ("x" * 81, "{}", "InvalidName"),
                             ("ok", "{not json", "InvalidExecutionInput"),
                             ("big", json.dumps({"a": "x" * 300_000}), "InvalidExecutionInput")):
        with pytest.raises(ApiError) as caught:
            service.start(machine.arn, name, text)
        assert caught.value.code == code
    service.start(machine.arn, "once", "{}")
    with pytest.raises(ApiError, match="Already Exists"):
        service.start(machine.arn, "once", "{}")


def test_status_changes_go_to_the_default_bus_in_order(service):
    machine, _ = service.register("m", PASS, "arn:aws:iam::123456789012:role/r")
    execution = service.start(machine.arn, "e1", '{"a": 1}')
    assert execution.done.wait(10)
    deadline = time.monotonic() + 10
    while len(service.clients.events) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    statuses = [json.loads(e["Detail"])["status"] for e in service.clients.events]
    assert statuses == ["RUNNING", "SUCCEEDED"]
    entry = service.clients.events[-1]
    assert (entry["Source"], entry["DetailType"], entry["Resources"]) == (
        "aws.states", "Step Functions Execution Status Change", [execution.arn])


def test_stop_execution_aborts_a_waiting_execution(service):
    machine, _ = service.register("m", WAIT, "arn:aws:iam::123456789012:role/r")
    execution = service.start(machine.arn, "w", "{}")
    handlers = api.handlers(service)
    status, _ = handlers["AWSStepFunctions.StopExecution"]({"executionArn": execution.arn, "error": "Bye"})
    assert status == 200 and execution.status == "ABORTED"
    types = [e["type"] for e in execution.run.history.events]
    assert types[-1] == "ExecutionAborted"


def test_api_errors_are_shaped_like_aws(service):
    handlers = api.handlers(service)
    status, body = handlers["AWSStepFunctions.DescribeExecution"]({"executionArn": "arn:nope"})
    assert status == 400 and body["__type"].endswith("#ExecutionDoesNotExist")
    status, body = handlers["AWSStepFunctions.SendTaskSuccess"]({"taskToken": "t", "output": "{}"})
    assert status == 400 and body["__type"].endswith("#TaskDoesNotExist")
    status, body = handlers["AWSStepFunctions.StartExecution"]({})
    assert status == 400 and "stateMachineArn" in body["message"]
