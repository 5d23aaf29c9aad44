"""Template loading and intrinsic resolution, without any server."""

from __future__ import annotations

import pytest

from hoptrace_localcloud.intrinsics import IntrinsicError, Scope, references, resolve
from hoptrace_localcloud.template import TemplateError, load_template, load_yaml


@pytest.fixture
def scope() -> Scope:
    return Scope(
        parameters={"Stage": "dev"},
        pseudo={"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::StackName": "local"},
        refs={"Queue": "http://127.0.0.1:5000/123456789012/local-Queue", "Topic": "arn:aws:sns:us-east-1:1:t"},
        attributes={"Queue": {"Arn": "arn:aws:sqs:us-east-1:123456789012:local-Queue", "QueueName": "local-Queue"}},
        conditions={"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
    )


def test_short_form_tags_load_as_long_form():
    # GIVEN YAML with CloudFormation short-form tags
    text = """
    A: !Ref Queue
    B: !GetAtt Queue.Arn
    C: !Sub "${AWS::StackName}-x"
    D: !Join [",", [a, !Ref Stage]]
    E: !If [IsDev, 1, 2]
    F: 2010-09-09
    """
    # WHEN it is loaded
    data = load_yaml(text)
    # THEN each tag is the intrinsic's long form, and dates stay strings
    assert data["A"] == {"Ref": "Queue"}
    assert data["B"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert data["C"] == {"Fn::Sub": "${AWS::StackName}-x"}
    assert data["D"] == {"Fn::Join": [",", ["a", {"Ref": "Stage"}]]}
    assert data["E"] == {"Fn::If": ["IsDev", 1, 2]}
    assert data["F"] == "2010-09-09"


@pytest.mark.parametrize(("value", "expected"), [
    ({"Ref": "Queue"}, "http://127.0.0.1:5000/123456789012/local-Queue"),
    ({"Ref": "Stage"}, "dev"),
    ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:us-east-1:123456789012:local-Queue"),
    ({"Fn::GetAtt": "Queue.QueueName"}, "local-Queue"),
    ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Queue.QueueName}-${!Literal}"}, "local-dev-local-Queue-${Literal}"),
    ({"Fn::Sub": ["${Name}/${AWS::Region}", {"Name": {"Ref": "Stage"}}]}, "dev/us-east-1"),
    ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, "b"]]}, "a-dev-b"),
    ({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}, "y"),
    ({"Fn::If": ["IsDev", "yes", "no"]}, "yes"),
    ({"Fn::Not": [{"Condition": "IsDev"}]}, False),
    ({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}, '{"a":"dev"}'),
])
def test_intrinsics_resolve_to_local_values(scope, value, expected):
    # GIVEN a scope of local resources WHEN the intrinsic is resolved THEN it gives the local value
    assert resolve(value, scope) == expected


def test_no_value_removes_keys_and_list_items(scope):
    # GIVEN AWS::NoValue in a map and a list
    value = {"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}, "List": [1, {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, 2]}]}
    # WHEN resolved THEN the key and the item disappear
    assert resolve(value, scope) == {"Keep": 1, "List": [1]}


def test_unknown_reference_names_itself(scope):
    # GIVEN a Ref to nothing WHEN resolved THEN the error says which name
    with pytest.raises(IntrinsicError, match="Ref 'Missing'"):
        resolve({"Ref": "Missing"}, scope)


def test_references_finds_dependencies_through_sub_and_getatt():
    value = {"A": {"Fn::Sub": "${Queue.Arn}/${Topic}/${!Not}"}, "B": [{"Fn::GetAtt": ["Bus", "Arn"]}]}
    assert references(value) == {"Queue", "Topic", "Bus"}


def test_globals_merge_and_parameter_defaults(tmp_path):
    # GIVEN a template with Globals, a default parameter and an overridden one
    path = tmp_path / "template.yaml"
    path.write_text("""
Parameters:
  A: {Type: String, Default: one}
  B: {Type: String, Default: two}
Globals:
  Function:
    Handler: app.handler
    Timeout: 9
    Environment: {Variables: {SHARED: s, OVERRIDDEN: global}}
    Layers: [g]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {OVERRIDDEN: own}}
      Layers: [own]
""")
    # WHEN it is loaded
    template = load_template(path, {"B": "override"})
    # THEN maps merge (resource wins), lists concatenate, scalars are inherited
    props = template.resources["Fn"]["Properties"]
    assert props["Timeout"] == 9
    assert props["Environment"]["Variables"] == {"SHARED": "s", "OVERRIDDEN": "own"}
    assert props["Layers"] == ["g", "own"]
    assert template.parameters == {"A": "one", "B": "override"}


def test_parameter_without_default_is_a_clear_error(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Parameters: {Needed: {Type: String}}\nResources: {Q: {Type: AWS::SQS::Queue}}\n")
    with pytest.raises(TemplateError, match="parameter 'Needed' has no Default"):
        load_template(path)
