"""State machines in the local cloud, end to end: moto server, real worker processes, executions started by a
function's boto3 (through moto's endpoint), by an EventBridge rule and by an API route."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import APPS, FAST, http

TEMPLATE = APPS / "statemachines" / "template.yaml"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    import dataclasses

    with LocalCloud(TEMPLATE, dataclasses.replace(FAST, state_machine_time_scale=0.05)) as running:
        yield running


def wait_done(cloud: LocalCloud, arn: str, timeout: float = 60.0):
    execution = cloud.stepfunctions.execution(arn)
    assert execution.done.wait(timeout), f"{arn} still {execution.status} after {timeout} s"
    return execution


def test_state_machines_are_created_without_warnings_and_resolve(cloud):
    assert not [w for w in cloud.warnings if "Machine" in w]
    assert cloud.resource("Machine").ref.endswith(":stateMachine:work-machine")
    described = cloud.client("stepfunctions").describe_state_machine(stateMachineArn=cloud.resource("Machine").ref)
    assert "${" not in described["definition"]  # substitutions applied


def test_sync_execution_from_a_function_runs_map_dynamodb_and_retries(cloud):
    # GIVEN a trace header on the caller's side (what the hoptrace SDK hook adds)
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    header = f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    # WHEN a function starts the machine with StartSyncExecution through moto's endpoint
    result = cloud.invoke("Starter", {"action": "sync", "machine": cloud.resource("Machine").ref,
                                      "input": {"numbers": [1, 2, 3], "failures": 2}, "traceHeader": header})
    assert result.error is None, result.error
    # THEN the execution ran every state: Map over the items, DynamoDB, the flaky task retried twice
    assert result.payload["status"] == "SUCCEEDED", result.payload
    output = json.loads(result.payload["output"])
    assert output["doubled"] == [2, 4, 6]
    assert output["flaky"]["attempts"] == 3
    # AND the Lambda task continued the caller's trace (tracing is on for this machine)
    assert output["flaky"]["trace"].startswith(f"Root={root};Parent=")
    arns = [e.arn for e in cloud.stepfunctions.executions.values() if e.output and '"attempts":3' in e.output]
    records = cloud.client("dynamodb").scan(TableName=cloud.resource("Records").ref)["Items"]
    assert {"S": arns[0].rsplit(":", 1)[-1]} in [item["id"] for item in records]


def test_history_and_describe_through_the_sdk_and_a_caught_failure(cloud):
    started = cloud.invoke("Starter", {"action": "start", "machine": cloud.resource("Machine").ref,
                                       "input": {"numbers": [], "failures": 9}})
    arn = started.payload["executionArn"]
    execution = wait_done(cloud, arn)
    assert (execution.status, execution.error) == ("FAILED", "WorkFailed")
    described = cloud.invoke("Starter", {"action": "describe", "executionArn": arn}).payload
    types = described["types"]
    assert described["status"] == "FAILED"
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionFailed"
    assert types.count("TaskFailed") == 4  # first try + 3 retries, then the Catch
    assert types.index("TaskStateExited") < types.index("FailStateEntered")
    missing = cloud.invoke("Starter", {"action": "missing", "executionArn": arn + "-nope"}).payload
    assert missing == {"error": "ExecutionDoesNotExist"}


def test_an_eventbridge_rule_starts_an_execution(cloud):
    before = set(cloud.stepfunctions.executions)
    cloud.client("events").put_events(Entries=[{"Source": "tests.start", "DetailType": "go",
                                                "Detail": json.dumps({"numbers": [5], "failures": 0})}])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not set(cloud.stepfunctions.executions) - before:
        time.sleep(0.1)
    (arn,) = set(cloud.stepfunctions.executions) - before
    execution = wait_done(cloud, arn)
    # The rule's input is the event envelope, so ItemsPath $.numbers is missing: a States.Runtime failure.
    assert json.loads(execution.input_text)["detail"] == {"numbers": [5], "failures": 0}
    assert execution.status == "FAILED" and execution.error == "States.Runtime"


def test_an_api_route_starts_an_execution_in_the_request_trace(cloud):
    traceparent = "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
    status, _, body = http(cloud.api_url + "/start", "POST", {"numbers": [4], "failures": 0},
                           {"traceparent": traceparent})
    assert status == 200
    execution = wait_done(cloud, json.loads(body)["executionArn"])
    assert execution.status == "SUCCEEDED" and json.loads(execution.output)["doubled"] == [8]
    assert execution.trace_header == "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert json.loads(execution.output)["flaky"]["trace"].startswith("Root=1-5759e988-bd862e3fe1be46a994272793;")


def test_an_http_api_start_sync_execution_integration_answers_with_the_result(cloud):
    status, _, body = http(cloud.api_url + "/sync", "POST", {"numbers": [3], "failures": 0})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"])["doubled"] == [6]


@pytest.mark.parametrize(("approve", "status"), [(True, "SUCCEEDED"), (False, "FAILED")])
def test_wait_for_task_token_through_sqs_and_a_function(cloud, approve, status):
    execution = cloud.start_execution("ApprovalMachine", {"approve": approve, "id": uuid.uuid4().hex})
    done = wait_done(cloud, execution.arn)
    assert done.status == status
    if approve:
        assert json.loads(done.output)["approved"]["approve"] is True
    else:
        assert (done.error, done.cause) == ("Rejected", "not approved")
    types = [e["type"] for e in done.run.history.events]
    assert "TaskSubmitted" in types
