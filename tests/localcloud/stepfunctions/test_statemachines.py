"""The CloudFormation type: where a definition comes from and how substitutions are applied."""

from __future__ import annotations

import json
from pathlib import Path

from hoptrace_localcloud.diagnostics import Diagnostics
from hoptrace_localcloud.statemachines import StateMachines

DEFINITION = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${Fn}", "Parameters": {
    "Note": "${Note}", "Keep": "${Unknown}"}, "End": True}}}


class FakeService:
    account_id = "123456789012"

    def __init__(self) -> None:
        self.registered: list[tuple] = []

    def register(self, name, definition, role, machine_type, tracing):
        self.registered.append((name, json.loads(definition), role, machine_type, tracing))
        arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
        return type("M", (), {"arn": arn})(), ["state 'T': something"]


def _machines(tmp_path: Path) -> tuple[StateMachines, FakeService, Diagnostics]:
    service, diagnostics = FakeService(), Diagnostics()
    return StateMachines(service, diagnostics, tmp_path, "local", lambda name: None), service, diagnostics


def test_a_definition_file_by_s3_location_with_substitutions(tmp_path):
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "x.asl.json").write_text(json.dumps(DEFINITION))
    machines, service, diagnostics = _machines(tmp_path)
    info = machines.create("Saga", "AWS::StepFunctions::StateMachine", {
        "DefinitionS3Location": {"Bucket": "b", "Key": "sm/x.asl.json"},
        "DefinitionSubstitutions": {"Fn": "arn:aws:lambda:us-east-1:1:function:f", "Note": 'say "hi"'},
        "TracingConfiguration": {"Enabled": True}, "StateMachineName": "saga"})
    name, definition, _, _, tracing = service.registered[0]
    assert (name, tracing) == ("saga", True)
    task = definition["States"]["T"]
    assert task["Resource"] == "arn:aws:lambda:us-east-1:1:function:f"
    assert task["Parameters"] == {"Note": 'say "hi"', "Keep": "${Unknown}"}  # JSON-escaped; unknown kept
    assert info.ref.endswith(":stateMachine:saga") and info.attributes["Name"] == "saga"
    assert diagnostics.warnings == ["Saga.Definition: state 'T': something"]


def test_yaml_definition_string_and_a_missing_definition(tmp_path):
    (tmp_path / "x.asl.yaml").write_text("StartAt: P\nStates:\n  P: {Type: Pass, End: true}\n")
    machines, service, diagnostics = _machines(tmp_path)
    machines.create("A", "AWS::StepFunctions::StateMachine", {"DefinitionS3Location": {"Key": "x.asl.yaml"}})
    machines.create("B", "AWS::StepFunctions::StateMachine", {"DefinitionString": json.dumps(DEFINITION)})
    assert machines.create("C", "AWS::StepFunctions::StateMachine", {}) is None
    assert service.registered[0][1]["States"]["P"] == {"Type": "Pass", "End": True}
    assert service.registered[1][0] == "local-B"
    assert any(w.startswith("C.Definition: Definition, DefinitionString or DefinitionS3Location is required")
               for w in diagnostics.warnings)
