"""The state-machine runner against the examples of AWS's Step Functions developer guide (Choice rules, Map
with ItemsPath, Parallel branches, Retry backoff, Catch with ResultPath, input/output processing)."""

from __future__ import annotations

import pytest

from hoptrace_localcloud.stepfunctions.retry import Retrier

from .runner import Functions, run, types

# Developer guide, "Choice workflow state": the ChoiceStateX example.
CHOICE = {
    "StartAt": "ChoiceStateX",
    "States": {
        "ChoiceStateX": {
            "Type": "Choice",
            "Choices": [
                {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
                {"And": [{"Variable": "$.value", "IsPresent": True},
                         {"Variable": "$.value", "IsNumeric": True},
                         {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                         {"Variable": "$.value", "NumericLessThan": 30}],
                 "Next": "ValueInTwenties"},
                {"And": [{"Variable": "$.rating", "IsPresent": True},
                         {"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold"}],
                 "Next": "StartAudit"},
            ],
            "Default": "DefaultState",
        },
        "Public": {"Type": "Pass", "Result": "public", "End": True},
        "ValueInTwenties": {"Type": "Pass", "Result": "twenties", "End": True},
        "StartAudit": {"Type": "Pass", "Result": "audit", "End": True},
        "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"},
    },
}


@pytest.mark.parametrize(("data", "expected"), [
    ({"type": "Public"}, "public"),
    ({"type": "Private", "value": 22}, "twenties"),
    ({"type": "Private", "value": 30, "rating": 55, "auditThreshold": 50}, "audit"),
])
def test_choice_rules_pick_the_first_matching_branch(data, expected):
    status, output, _ = run(CHOICE, data)
    assert (status, output) == ("SUCCEEDED", expected)


def test_choice_default_reaches_the_fail_state():
    status, error, the_run = run(CHOICE, {"type": "Private", "value": 31})
    assert status == "FAILED"
    assert (error.error, error.cause) == ("DefaultStateError", "No Matches!")
    assert types(the_run)[-1] == "FailStateEntered"


def test_choice_without_default_fails_with_no_choice_matched():
    asl = {"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.a", "StringMatches": "log-*.txt", "Next": "D"}]}, "D": {"Type": "Succeed"}}}
    assert run(asl, {"a": "log-2024.txt"})[0] == "SUCCEEDED"
    status, error, _ = run(asl, {"a": "other"})
    assert (status, error.error) == ("FAILED", "States.NoChoiceMatched")


# Developer guide, "Map workflow state": the shipping example with ItemsPath and ItemSelector.
SHIPPING = {
    "ship-date": "2016-03-14T01:59:00Z",
    "detail": {
        "delivery-partner": "UQS",
        "shipped": [
            {"prod": "R31", "dest-code": 9511, "quantity": 1344},
            {"prod": "S39", "dest-code": 9511, "quantity": 40},
            {"prod": "R31", "dest-code": 9833, "quantity": 12},
            {"prod": "R40", "dest-code": 9860, "quantity": 887},
            {"prod": "R40", "dest-code": 9511, "quantity": 1220},
        ],
    },
}
MAP = {
    "StartAt": "ProcessAllItems",
    "States": {
        "ProcessAllItems": {
            "Type": "Map",
            "InputPath": "$.detail",
            "ItemsPath": "$.shipped",
            "MaxConcurrency": 0,
            "ItemSelector": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},
            "ItemProcessor": {"StartAt": "Validate", "States": {"Validate": {
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-val", "End": True}}},
            "ResultPath": "$.detail.shipped",
            "End": True,
        },
    },
}


def test_map_iterates_items_path_with_item_selector():
    functions = Functions(**{"ship-val": lambda e: {"ok": e["parcel"]["prod"], "by": e["courier"]}})
    status, output, the_run = run(MAP, SHIPPING, functions)
    assert status == "SUCCEEDED"
    assert output["detail"]["shipped"] == [{"ok": p["prod"], "by": "UQS"} for p in SHIPPING["detail"]["shipped"]]
    assert output["ship-date"] == SHIPPING["ship-date"]
    assert sorted(call[1]["parcel"]["quantity"] for call in functions.calls) == [12, 40, 887, 1220, 1344]
    events = types(the_run)
    assert events.count("MapIterationStarted") == 5 and events.count("MapIterationSucceeded") == 5
    assert events.count("LambdaFunctionSucceeded") == 5 and events[-1] == "MapStateExited"


def test_map_max_concurrency_one_runs_items_in_order():
    asl = {"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": {
        "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                                         "End": True}}}, "End": True}}}
    functions = Functions(f=lambda e: e * 2)
    assert run(asl, [3, 1, 2], functions)[:2] == ("SUCCEEDED", [6, 2, 4])
    assert [call[1] for call in functions.calls] == [3, 1, 2]


def test_map_over_a_non_array_fails():
    asl = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.x", "ItemProcessor": {
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}
    status, error, _ = run(asl, {"x": {"not": "a list"}})
    assert (status, error.error) == ("FAILED", "States.Runtime")


# Developer guide, "Parallel workflow state": LookupCustomerInfo with two branches.
PARALLEL = {
    "StartAt": "LookupCustomerInfo",
    "States": {
        "LookupCustomerInfo": {
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {"StartAt": "LookupAddress", "States": {"LookupAddress": {
                    "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:AddressFinder",
                    "End": True}}},
                {"StartAt": "LookupPhone", "States": {"LookupPhone": {
                    "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:PhoneFinder",
                    "End": True}}},
            ],
        },
    },
}


def test_parallel_branches_output_an_array_in_branch_order():
    functions = Functions(AddressFinder=lambda e: {"address": f"{e['id']} Main St"},
                          PhoneFinder=lambda e: {"phone": "555-0100"})
    status, output, the_run = run(PARALLEL, {"id": 7}, functions)
    assert (status, output) == ("SUCCEEDED", [{"address": "7 Main St"}, {"phone": "555-0100"}])
    events = types(the_run)
    assert events[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert events[-2:] == ["ParallelStateSucceeded", "ParallelStateExited"]


def test_a_failing_branch_fails_the_parallel_with_its_error():
    def phone(event):
        raise LookupError("no phone")

    functions = Functions(AddressFinder=lambda e: {}, PhoneFinder=phone)
    status, error, the_run = run(PARALLEL, {"id": 7}, functions)
    assert (status, error.error) == ("FAILED", "LookupError")
    assert "ParallelStateFailed" in types(the_run)


# Developer guide, "Handling errors": Retry with IntervalSeconds, MaxAttempts, BackoffRate.
def test_retry_backoff_intervals():
    retrier = Retrier.parse({"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 3, "MaxAttempts": 2,
                             "BackoffRate": 1.5})
    assert [retrier.delay(n) for n in range(3)] == [3.0, 4.5, 6.75]
    capped = Retrier.parse({"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2,
                            "MaxDelaySeconds": 5, "JitterStrategy": "FULL"})
    assert all(0 <= capped.delay(n) <= 5 for n in range(10))


def test_retries_then_succeeds_and_history_shows_each_attempt():
    attempts = []

    def flaky(event):
        attempts.append(event)
        if len(attempts) < 3:
            raise ConnectionError("provider unavailable")
        return {"charged": True}

    asl = {"StartAt": "Charge", "States": {"Charge": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "charge", "Payload.$": "$", "RetryCount.$": "$$.State.RetryCount"},
        "OutputPath": "$.Payload",
        "Retry": [{"ErrorEquals": ["ConnectionError"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}],
        "End": True}}}
    status, output, the_run = run(asl, {"order": 1}, Functions(charge=flaky))
    assert (status, output) == ("SUCCEEDED", {"charged": True})
    assert types(the_run).count("TaskFailed") == 2 and types(the_run).count("TaskScheduled") == 3
    assert types(the_run).count("TaskStateEntered") == 1  # retries stay inside one state entry


def test_retry_exhausted_fails_the_execution():
    def broken(event):
        raise ConnectionError("down")

    asl = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:b",
                                            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
                                            "End": True}}}
    functions = Functions(b=broken)
    status, error, _ = run(asl, {}, functions)
    assert (status, error.error) == ("FAILED", "ConnectionError")
    assert len(functions.calls) == 3
    assert '"errorMessage": "down"' in error.cause


# Developer guide, "Handling errors": Catch with ResultPath keeps the input and adds the error.
def test_catch_with_result_path_keeps_input_and_adds_error():
    def fails(event):
        raise ValueError("bad amount")

    asl = {"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:c",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NextState", "ResultPath": "$.error-info"}],
                   "End": True},
        "NextState": {"Type": "Pass", "End": True}}}
    status, output, the_run = run(asl, {"foo": "bar"}, Functions(c=fails))
    assert status == "SUCCEEDED"
    assert output["foo"] == "bar" and output["error-info"]["Error"] == "ValueError"
    assert "bad amount" in output["error-info"]["Cause"]
    assert types(the_run)[-4:] == ["LambdaFunctionFailed", "TaskStateExited", "PassStateEntered",
                                   "PassStateExited"]


def test_catch_order_first_match_wins_and_task_failed_covers_task_errors():
    def fails(event):
        raise KeyError("k")

    asl = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": True,
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Timeout"},
                        {"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}]},
        "Timeout": {"Type": "Pass", "Result": "timeout", "End": True},
        "Failed": {"Type": "Pass", "Result": "failed", "End": True}}}
    assert run(asl, {}, Functions(f=fails))[:2] == ("SUCCEEDED", "failed")


# Developer guide, "Processing input and output": InputPath, Parameters, ResultSelector, ResultPath, OutputPath.
def test_input_and_output_processing():
    asl = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
        "InputPath": "$.library",
        "Parameters": {"staticValue": "Just a string", "catalog": {"myFavoriteItem.$": "$.movies[0]"},
                       "count.$": "States.ArrayLength($.movies)",
                       "greeting.$": "States.Format('Hello {}', $.owner)"},
        "ResultSelector": {"resultCount.$": "$.count", "kept.$": "$.catalog.myFavoriteItem"},
        "ResultPath": "$.library.result",
        "OutputPath": "$.library",
        "End": True}}}
    data = {"library": {"movies": ["Jaws", "Up"], "owner": "Ann"}}
    functions = Functions(f=lambda e: e)
    status, output, _ = run(asl, data, functions)
    assert functions.calls[0][1] == {"staticValue": "Just a string", "catalog": {"myFavoriteItem": "Jaws"},
                                     "count": 2, "greeting": "Hello Ann"}
    assert (status, output) == ("SUCCEEDED", {"movies": ["Jaws", "Up"], "owner": "Ann",
                                              "result": {"resultCount": 2, "kept": "Jaws"}})


def test_result_path_null_discards_the_result_and_wait_uses_seconds_path():
    asl = {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": None, "Next": "W"},
        "W": {"Type": "Wait", "SecondsPath": "$.delay", "End": True}}}
    assert run(asl, {"delay": 1})[:2] == ("SUCCEEDED", {"delay": 1})


def test_a_missing_parameter_path_is_a_parameter_path_failure():
    asl = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a.$": "$.nope"}, "End": True}}}
    status, error, _ = run(asl, {})
    assert (status, error.error) == ("FAILED", "States.ParameterPathFailure")


def test_timeout_seconds_fails_the_task_without_waiting_for_it():
    import threading
    import time

    release = threading.Event()

    def slow(event):
        release.wait(10)
        return {}

    asl = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:s",
                                            "TimeoutSeconds": 1, "End": True}}}
    started = time.monotonic()
    status, error, the_run = run(asl, {}, Functions(s=slow), time_scale=0.05)
    release.set()
    assert (status, error.error) == ("FAILED", "States.Timeout") and time.monotonic() - started < 5
    assert "LambdaFunctionTimedOut" in types(the_run)
