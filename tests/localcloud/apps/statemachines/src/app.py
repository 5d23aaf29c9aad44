"""Test functions for the Step Functions tests: plain boto3, no hoptrace."""

import json
import os
import tempfile

import boto3


class TransientError(Exception):
    pass


def work(event, context):
    mode = event.get("mode")
    if mode == "double":
        return event["n"] * 2
    if mode == "flaky":
        # Counted in a file: a retry may run in another worker process.
        counter = os.path.join(tempfile.gettempdir(), f"hoptrace-sfn-test-{event['key']}")
        with open(counter, "a") as f:
            f.write(".")
        attempts = os.path.getsize(counter)
        if attempts <= int(event.get("failures") or 0):
            raise TransientError(f"attempt {attempts} failed")
        return {"attempts": attempts, "trace": os.environ.get("_X_AMZN_TRACE_ID")}
    if mode == "compensate":
        return {"compensated": event["error"]}
    raise ValueError(f"unknown mode {mode!r}")


def starter(event, context):
    sfn = boto3.client("stepfunctions")
    action = event["action"]
    if action == "sync":
        result = sfn.start_sync_execution(stateMachineArn=event["machine"], input=json.dumps(event["input"]),
                                          traceHeader=event.get("traceHeader", ""))
        return {"status": result["status"], "output": result.get("output"), "error": result.get("error")}
    if action == "start":
        result = sfn.start_execution(stateMachineArn=event["machine"], input=json.dumps(event["input"]))
        return {"executionArn": result["executionArn"]}
    if action == "describe":
        result = sfn.describe_execution(executionArn=event["executionArn"])
        history = sfn.get_paginator("get_execution_history").paginate(executionArn=event["executionArn"],
                                                                      maxResults=5)
        types = [e["type"] for page in history for e in page["events"]]
        return {"status": result["status"], "types": types}
    if action == "missing":
        try:
            sfn.describe_execution(executionArn=event["executionArn"])
        except sfn.exceptions.ExecutionDoesNotExist as exc:
            return {"error": type(exc).__name__}
    raise ValueError(action)


def approver(event, context):
    sfn = boto3.client("stepfunctions")
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body["request"].get("approve"):
            sfn.send_task_success(taskToken=body["token"], output=json.dumps({"approved": body["request"]}))
        else:
            sfn.send_task_failure(taskToken=body["token"], error="Rejected", cause="not approved")
