"""How a state's input becomes its effective input and its result becomes its output:
InputPath → Parameters/ItemSelector → (work) → ResultSelector → ResultPath → OutputPath."""

from __future__ import annotations

from typing import Any

from . import intrinsics, paths
from .errors import PARAMETER_PATH, StatesError


def render(template: Any, data: Any, context: Any, failure: str = PARAMETER_PATH) -> Any:
    """A payload template: keys ending in `.$` take the value of a path or an intrinsic function call."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = _dynamic(key, value, data, context, failure)
            else:
                out[key] = render(value, data, context, failure)
        return out
    if isinstance(template, list):
        return [render(item, data, context, failure) for item in template]
    return template


def _dynamic(key: str, expression: str, data: Any, context: Any, failure: str) -> Any:
    if intrinsics.is_intrinsic(expression):
        return intrinsics.call(expression, data, context)
    try:
        return paths.evaluate(expression, data, context)
    except StatesError as exc:
        raise StatesError(failure, f"the JSONPath {expression!r} specified for the field {key!r} could not be "
                                   f"found in the input: {exc.cause}") from None


def select(path: str | None, data: Any, context: Any = None) -> Any:
    """InputPath / OutputPath / ItemsPath: absent means `$`, null means `{}`."""
    if path is None:
        return {}
    if path == "$":
        return data
    return paths.evaluate(path, data, context)


def effective_input(state: dict[str, Any], raw: Any, context: Any, template_key: str = "Parameters") -> Any:
    selected = select(state.get("InputPath", "$"), raw, context)
    if template_key in state:
        return render(state[template_key], selected, context)
    return selected


def state_output(state: dict[str, Any], raw_input: Any, result: Any, context: Any) -> Any:
    if "ResultSelector" in state:
        result = render(state["ResultSelector"], result, context)
    combined = paths.set_path(raw_input, state.get("ResultPath", "$"), result)
    return select(state.get("OutputPath", "$"), combined, context)
