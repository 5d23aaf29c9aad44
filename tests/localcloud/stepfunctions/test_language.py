"""Paths, intrinsic functions and definition checks of the state-machine runner."""

from __future__ import annotations

import pytest

from hoptrace_localcloud.stepfunctions import definition, intrinsics, paths
from hoptrace_localcloud.stepfunctions.errors import StatesError, matches
from hoptrace_localcloud.stepfunctions.tasks import TaskRunner

DATA = {"a": {"b": [1, 2, {"c": 3}]}, "x y": 5, "items": [{"p": 1}, {"p": 2}]}


@pytest.mark.parametrize(("path", "expected"), [
    ("$", DATA), ("$.a.b[2].c", 3), ("$['x y']", 5), ("$.items[*].p", [1, 2]), ("$..c", [3]),
    ("$.items[?(@.p > 1)]", [{"p": 2}]), ("$.a.b[-1]", {"c": 3}), ("$.a.b[0:2]", [1, 2]),
])
def test_paths(path, expected):
    assert paths.evaluate(path, DATA) == expected


def test_context_paths_and_missing_paths():
    assert paths.evaluate("$$.Execution.Id", {}, {"Execution": {"Id": "arn"}}) == "arn"
    with pytest.raises(StatesError):
        paths.evaluate("$.nope", DATA)


def test_result_path_writes_into_a_copy():
    out = paths.set_path(DATA, "$.r.s", 1)
    assert out["r"] == {"s": 1} and "r" not in DATA
    with pytest.raises(StatesError) as caught:
        paths.set_path("a string", "$.r", 1)
    assert caught.value.error == "States.ResultPathMatchFailure"


@pytest.mark.parametrize(("expression", "expected"), [
    ("States.Format('Hello, my name is {}.', $.name)", "Hello, my name is Ann."),
    ("States.ArrayPartition(States.ArrayUnique($.n), 2)", [[1, 2], [3]]),
    ("States.MathAdd($.n[0], -1)", 0),
    ("States.StringSplit('1,2;3', ',;')", ["1", "2", "3"]),
    ("States.JsonToString($.o)", '{"a":1}'),
    ("States.StringToJson('{\"k\": 2}')", {"k": 2}),
    ("States.Hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
    ("States.ArrayContains($.n, 3)", True),
    ("States.ArrayGetItem($.n, 1)", 2),
    ("States.Base64Decode(States.Base64Encode('Data to encode'))", "Data to encode"),
    ("States.JsonMerge($.o, States.StringToJson('{\"b\": 2}'), false)", {"a": 1, "b": 2}),
    ("States.Format('{} \\\\{literal\\\\}', 'x')", "x {literal}"),
])
def test_intrinsics(expression, expected):
    assert intrinsics.call(expression, {"name": "Ann", "n": [1, 2, 2, 3], "o": {"a": 1}}, {}) == expected


@pytest.mark.parametrize("expression", ["States.Nope()", "States.Format('{}')", "States.ArrayGetItem($.n, 9)",
                                        "States.MathAdd(1"])
def test_bad_intrinsics_are_intrinsic_failures(expression):
    with pytest.raises(StatesError) as caught:
        intrinsics.call(expression, {"n": [1]}, {})
    assert caught.value.error == "States.IntrinsicFailure"


def test_error_matching():
    assert matches("MyError", ["States.ALL"]) and matches("MyError", ["States.TaskFailed"])
    assert not matches("States.Runtime", ["States.ALL"]) and not matches("States.Timeout", ["States.TaskFailed"])


@pytest.mark.parametrize(("asl", "message"), [
    ({"States": {"A": {"Type": "Pass", "End": True}}}, "StartAt"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}, "needs Next or End"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}, "'B'"),
    ({"StartAt": "A", "States": {"A": {"Type": "Magic", "End": True}}}, "Type must be"),
    ("{not json", "not valid JSON"),
])
def test_invalid_definitions_name_the_place(asl, message):
    with pytest.raises(definition.DefinitionError, match=message):
        definition.parse(asl)


def test_each_unsupported_construct_gives_one_warning_naming_its_state():
    asl = definition.parse({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Next": "M"},
        "M": {"Type": "Map", "ItemReader": {}, "ToleratedFailureCount": 1, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Assign": {"x": 1}, "End": True}}}, "End": True}}})
    lines = definition.warnings(asl, TaskRunner("us-east-1", None, None).unsupported_reason)
    assert len(lines) == 3
    assert lines[0].startswith("state 'A': ") and "glue" in lines[0]
    assert lines[1].startswith("state 'M': ") and "ItemReader" in lines[1] and "distributed" in lines[1]
    assert lines[2].startswith("state 'P': ") and "Assign" in lines[2]


def test_service_tasks_call_boto3_with_the_api_names_and_name_errors_like_aws():
    from botocore.exceptions import ClientError

    from hoptrace_localcloud.stepfunctions.tasks import TaskRunner

    calls = []

    class Client:
        def __init__(self, service):
            self.service = service

        def send_message(self, **params):
            calls.append((self.service, "send_message", params))
            return {"MessageId": "m-1", "ResponseMetadata": {}}

        def start_execution(self, **params):
            calls.append((self.service, "start_execution", params))
            return {"executionArn": "arn"}

        def get_item(self, **params):
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "GetItem")

    runner = TaskRunner("us-east-1", None, Client)
    sent = runner.call(runner.spec("arn:aws:states:::sqs:sendMessage"), {"QueueUrl": "q", "MessageBody": {"a": 1}},
                       None)
    assert sent == {"MessageId": "m-1"} and calls[0] == ("sqs", "send_message",
                                                          {"QueueUrl": "q", "MessageBody": '{"a":1}'})
    runner.call(runner.spec("arn:aws:states:::aws-sdk:sfn:startExecution"), {"StateMachineArn": "x"}, None)
    assert calls[1][:2] == ("stepfunctions", "start_execution")
    for resource, name in (("arn:aws:states:::dynamodb:getItem", "DynamoDB.ResourceNotFoundException"),
                           ("arn:aws:states:::aws-sdk:dynamodb:getItem", "DynamoDb.ResourceNotFoundException")):
        with pytest.raises(StatesError) as caught:
            runner.call(runner.spec(resource), {"TableName": "t", "Key": {}}, None)
        assert caught.value.error == name
