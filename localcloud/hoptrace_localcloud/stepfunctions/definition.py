"""Reading a state machine definition: structural errors (what CreateStateMachine rejects as
`InvalidDefinition`) and one warning per state for what the local runner does not do."""

from __future__ import annotations

import json
from typing import Any

STATE_TYPES = frozenset({"Task", "Choice", "Pass", "Wait", "Parallel", "Map", "Succeed", "Fail"})
TERMINAL = frozenset({"Succeed", "Fail"})
# Fields the runner ignores, and what that means for the user.
_UNSUPPORTED_FIELDS = {
    "Assign": "workflow variables (Assign) are not set",
    "Arguments": "JSONata Arguments are not evaluated",
    "Output": "JSONata Output is not evaluated",
    "Credentials": "task Credentials are ignored (no IAM locally)",
    "ItemReader": "ItemReader is not read; the Map iterates over ItemsPath",
    "ItemBatcher": "ItemBatcher is ignored; each item is its own iteration",
    "ResultWriter": "ResultWriter is ignored; results stay in the state output",
    "ToleratedFailurePercentage": "tolerated failures are not applied; any failed item fails the Map",
    "ToleratedFailureCount": "tolerated failures are not applied; any failed item fails the Map",
    "ToleratedFailurePercentagePath": "tolerated failures are not applied; any failed item fails the Map",
    "ToleratedFailureCountPath": "tolerated failures are not applied; any failed item fails the Map",
    "Label": "the Map Label is ignored",
}


class DefinitionError(ValueError):
    """The definition is not a state machine Step Functions would accept."""


def parse(definition: Any) -> dict[str, Any]:
    """The definition as a dict (a string is JSON), checked for the structure every run depends on."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise DefinitionError(f"the definition is not valid JSON: {exc}") from None
    if not isinstance(definition, dict):
        raise DefinitionError("the definition must be a JSON object with StartAt and States")
    _check_block(definition, "")
    return definition


def _check_block(block: dict[str, Any], where: str) -> None:
    states = block.get("States")
    if not isinstance(states, dict) or not states:
        raise DefinitionError(f"{where or 'the definition'} needs a non-empty States object")
    if block.get("StartAt") not in states:
        raise DefinitionError(f"{where or 'the definition'}: StartAt {block.get('StartAt')!r} is not one of its "
                              f"states ({', '.join(states)})")
    for name, state in states.items():
        here = f"{where}States.{name}" if not where else f"{where}.States.{name}"
        if not isinstance(state, dict) or state.get("Type") not in STATE_TYPES:
            raise DefinitionError(f"{here}: Type must be one of {', '.join(sorted(STATE_TYPES))}")
        kind = state["Type"]
        targets = [state["Next"]] if "Next" in state else []
        if kind == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                raise DefinitionError(f"{here}: a Choice state needs a non-empty Choices list")
            targets += [c.get("Next") for c in choices] + ([state["Default"]] if "Default" in state else [])
        elif kind not in TERMINAL and not state.get("End") and "Next" not in state:
            raise DefinitionError(f"{here}: a {kind} state needs Next or End: true")
        targets += [c.get("Next") for c in state.get("Catch") or []]
        for target in targets:
            if target not in states:
                raise DefinitionError(f"{here}: transition to {target!r}, which is not a state of this block")
        if kind == "Task" and not isinstance(state.get("Resource"), str):
            raise DefinitionError(f"{here}: a Task state needs a Resource")
        if kind == "Parallel":
            for index, branch in enumerate(state.get("Branches") or [None]):
                if not isinstance(branch, dict):
                    raise DefinitionError(f"{here}: a Parallel state needs Branches")
                _check_block(branch, f"{here}.Branches[{index}]")
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if not isinstance(processor, dict):
                raise DefinitionError(f"{here}: a Map state needs ItemProcessor (or Iterator)")
            _check_block(processor, f"{here}.ItemProcessor")


def warnings(definition: dict[str, Any], resource_supported: Any) -> list[str]:
    """One line per state naming what it uses that runs differently here (or not at all)."""
    lines: list[str] = []
    if definition.get("QueryLanguage") == "JSONata":
        lines.append("QueryLanguage: JSONata is not evaluated locally; states run as JSONPath")
    _walk(definition, lines, resource_supported)
    return lines


def _walk(block: dict[str, Any], lines: list[str], resource_supported: Any) -> None:
    for name, state in block["States"].items():
        problems = [text for key, text in _UNSUPPORTED_FIELDS.items() if key in state]
        if state.get("QueryLanguage") == "JSONata":
            problems.append("JSONata is not evaluated; the state runs as JSONPath")
        processor = state.get("ItemProcessor") or {}
        if (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
            problems.append("a distributed Map runs inline (no child executions)")
        if state.get("Type") == "Task":
            reason = resource_supported(state["Resource"])
            if reason:
                problems.append(reason)
        if problems:
            lines.append(f"state {name!r}: " + "; ".join(dict.fromkeys(problems)))
        for branch in state.get("Branches") or []:
            _walk(branch, lines, resource_supported)
        if state.get("Type") == "Map":
            _walk(state.get("ItemProcessor") or state["Iterator"], lines, resource_supported)
