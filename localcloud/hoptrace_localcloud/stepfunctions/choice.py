"""Choice rules (JSONPath flavour): comparison operators, `*Path` variants, `Is*` tests, And/Or/Not."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from . import paths
from .errors import StatesError

_OPS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
_TYPES = {"String": str, "Numeric": (int, float), "Boolean": bool, "Timestamp": str}


def matches(rule: dict[str, Any], data: Any, context: Any = None) -> bool:
    """Whether one Choice rule (top level or nested) holds for the state's input."""
    if "And" in rule:
        return all(matches(sub, data, context) for sub in rule["And"])
    if "Or" in rule:
        return any(matches(sub, data, context) for sub in rule["Or"])
    if "Not" in rule:
        return not matches(rule["Not"], data, context)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise StatesError("States.Runtime", f"a Choice rule needs a Variable: {rule}")
    for key, expected in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign"):
            continue
        return _test(key, expected, variable, data, context)
    raise StatesError("States.Runtime", f"the Choice rule on {variable} has no comparison operator")


def _value(variable: str, data: Any, context: Any) -> tuple[bool, Any]:
    try:
        return True, paths.evaluate(variable, data, context)
    except StatesError:
        return False, None


def _test(op: str, expected: Any, variable: str, data: Any, context: Any) -> bool:
    present, value = _value(variable, data, context)
    if op == "IsPresent":
        return present is bool(expected)
    if not present:
        # A missing variable is an error for comparisons on AWS, except inside an IsPresent guard.
        raise StatesError("States.Runtime", f"Invalid path {variable!r}: the choice state's condition path "
                                            "references an invalid value")
    if op.startswith("Is"):
        return _is(op[2:], value) is bool(expected)
    if op.endswith("Path"):
        op = op[:-4]
        expected = paths.evaluate(expected, data, context)
    if op == "StringMatches":
        return isinstance(value, str) and _wildcard(expected).fullmatch(value) is not None
    for type_name, pytype in _TYPES.items():
        if op.startswith(type_name) and op[len(type_name):] in _OPS:
            if not _typed(value, type_name, pytype) or not _typed(expected, type_name, pytype):
                return False
            if type_name == "Timestamp":
                value, expected = _timestamp(value), _timestamp(expected)
            return _compare(op[len(type_name):], value, expected)
    raise StatesError("States.Runtime", f"{op} is not a Choice rule operator")


def _typed(value: Any, type_name: str, pytype: Any) -> bool:
    if type_name == "Numeric":
        return isinstance(value, pytype) and not isinstance(value, bool)
    if type_name == "Timestamp":
        return isinstance(value, str) and _timestamp(value) is not None
    return isinstance(value, pytype)


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"Equals": a == b, "LessThan": a < b, "GreaterThan": a > b,
            "LessThanEquals": a <= b, "GreaterThanEquals": a >= b}[op]


def _is(kind: str, value: Any) -> bool:
    if kind == "Null":
        return value is None
    if kind == "Numeric":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "String":
        return isinstance(value, str)
    if kind == "Boolean":
        return isinstance(value, bool)
    if kind == "Timestamp":
        return isinstance(value, str) and _timestamp(value) is not None
    raise StatesError("States.Runtime", f"Is{kind} is not a Choice rule operator")


def _timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _wildcard(pattern: str) -> re.Pattern[str]:
    """`*` matches any run of characters; `\\*` is a literal star (ASL's only escape)."""
    parts = re.split(r"(\\\*|\*)", pattern)
    regex = "".join(".*" if p == "*" else re.escape("*") if p == "\\*" else re.escape(p) for p in parts)
    return re.compile(regex, re.S)
