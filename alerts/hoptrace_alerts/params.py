"""The fields a rule takes: default, check and one line of documentation, declared once per field.

The config loader validates with these, the shipped defaults file is rendered from them and the
dashboard shows them, so a field's meaning cannot drift between the three. A check returns the
normalised value or raises ValueError with what was expected; the caller prefixes the path
(`rules.error_spike.min_invocations: ...`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], Any]


@dataclass(frozen=True)
class Param:
    default: Any
    check: Check
    doc: str


def _got(value: Any) -> str:
    return f"got {value!r}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"must be a positive integer, {_got(value)}")
    return value


def _number(test: Callable[[float], bool], expected: str) -> Check:
    """A check for a number (int or float, never a bool) that `test` accepts, returned as a float."""
    def check(value: Any) -> float:
        if not _is_number(value) or not test(value):
            raise ValueError(f"must be {expected}, {_got(value)}")
        return float(value)
    return check


seconds = _number(lambda v: v > 0, "a positive number of seconds")
seconds_or_zero = _number(lambda v: v >= 0, "a number of seconds, 0 or more")
share = _number(lambda v: 0 <= v <= 1, "a share between 0 and 1")
share_or_off = _number(lambda v: 0 <= v <= 1, "a share between 0 and 1 (0: off)")
factor = _number(lambda v: v >= 1, "a number of at least 1 (how many times the baseline)")
factor_or_off = _number(lambda v: v == 0 or v >= 1,
                        "0 (off) or a number of at least 1 (how many times the baseline)")
milliseconds_or_off = _number(lambda v: v >= 0, "a number of milliseconds, 0 or more (0: off)")


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, {_got(value)}")
    return value


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(repr, choices))}, {_got(value)}")
        return str(value)
    return check


def some_of(*choices: str) -> Check:
    def check(value: Any) -> tuple[str, ...]:
        if (not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
                or not set(value) <= set(choices)):
            raise ValueError(f"must be a non-empty list drawn from {', '.join(map(repr, choices))}, {_got(value)}")
        return tuple(dict.fromkeys(value))
    return check


def url_or_empty(value: Any) -> str:
    if not isinstance(value, str) or (value and not value.startswith(("http://", "https://"))):
        raise ValueError(f"must be an http:// or https:// URL, or empty, {_got(value)}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, {_got(value)}")
    return value


def checked(fields: dict[str, Param], given: dict[str, Any], path: str, problems: list[str]) -> dict[str, Any]:
    """`given` validated against `fields`: each wrong or unknown key adds one problem naming its path."""
    out: dict[str, Any] = {}
    for key, value in given.items():
        where = f"{path}.{key}" if path else key
        param = fields.get(key)
        if param is None:
            owner = f"[{path}]" if path else "the top level"
            problems.append(f"{where}: unknown field; {owner} takes " + ", ".join(fields))
            continue
        try:
            out[key] = param.check(value)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return out


def toml_value(value: Any) -> str:
    """A Python value written back as TOML (the subset the fields use)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)
