"""EventBridge event patterns, as Lambda's event filtering (`FilterCriteria`) and EventBridge rules apply them:
exact values, prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr and `$or`.

Shared by every event source that filters: SQS, Kinesis and DynamoDB stream mappings each hand
`compile_filters`' predicate the record as Lambda filters it (the `*_filter_view` functions). A pattern is a
JSON object whose leaves are arrays of matchers; an event matches when every key matches (arrays in the
event match when any element does).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_MISSING = object()
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


class PatternError(ValueError):
    """A pattern that is not valid JSON or uses a matcher not known; the message names it."""


def parse_pattern(text: Any) -> dict[str, Any]:
    """A pattern from its JSON text (as `FilterCriteria.Filters[].Pattern` holds it) or an already parsed dict."""
    try:
        pattern = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as exc:
        raise PatternError(f"pattern {text!r} is not JSON ({exc.msg})") from None
    if not isinstance(pattern, dict):
        raise PatternError(f"pattern {text!r} must be a JSON object")
    _validate(pattern)
    return pattern


def _validate(pattern: Mapping[str, Any]) -> None:
    for key, rule in pattern.items():
        if key == "$or":
            if not isinstance(rule, list) or not all(isinstance(p, dict) for p in rule):
                raise PatternError("$or takes a list of patterns")
            for sub in rule:
                _validate(sub)
        elif isinstance(rule, dict):
            _validate(rule)
        elif isinstance(rule, list):
            for matcher in rule:
                if isinstance(matcher, dict):
                    unknown = set(matcher) - _MATCHERS.keys()
                    if unknown or len(matcher) != 1:
                        raise PatternError(f"{key}: unknown matcher {sorted(matcher)}; known: {sorted(_MATCHERS)}")
        else:
            example = f"{{{json.dumps(key)}: [{json.dumps(rule)}]}}"
            raise PatternError(f"{key}: a pattern's leaves are arrays, e.g. {example}")


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether `event` (parsed JSON) matches `pattern` (parsed, validated)."""
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(sub, event) for sub in rule):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if not matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif not _leaf(rule, value):
            return False
    return True


def _leaf(rule: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(m, dict) and m.get("exists") is False for m in rule)
    values = value if isinstance(value, list) else [value]
    return any(_one(matcher, item) for matcher in rule for item in values)


def _one(matcher: Any, value: Any) -> bool:
    if isinstance(matcher, dict):
        (name, arg), = matcher.items()
        return _MATCHERS[name](arg, value)
    return _equal(matcher, value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(expected: Any, value: Any) -> bool:
    if _is_number(expected) and _is_number(value):
        return float(expected) == float(value)
    return type(expected) is type(value) and expected == value


def _prefix(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        return isinstance(value, str) and value.lower().startswith(str(arg["equals-ignore-case"]).lower())
    return isinstance(value, str) and value.startswith(str(arg))


def _suffix(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        return isinstance(value, str) and value.lower().endswith(str(arg["equals-ignore-case"]).lower())
    return isinstance(value, str) and value.endswith(str(arg))


def _ignore_case(arg: Any, value: Any) -> bool:
    return isinstance(value, str) and value.lower() == str(arg).lower()


def _wildcard(arg: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    regex = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", str(arg)))
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        (name, inner), = arg.items()
        if isinstance(inner, list):
            return not any(_MATCHERS[name](item, value) for item in inner)
        return not _MATCHERS[name](inner, value)
    if isinstance(arg, list):
        return not any(_equal(item, value) for item in arg)
    return not _equal(arg, value)


def _numeric(arg: Any, value: Any) -> bool:
    if not _is_number(value) or not isinstance(arg, list) or len(arg) % 2:
        return False
    pairs = zip(arg[::2], arg[1::2], strict=True)
    return all(op in _NUMERIC_OPS and _is_number(bound) and _NUMERIC_OPS[op](float(value), float(bound))
               for op, bound in pairs)


def _exists(arg: Any, value: Any) -> bool:
    return bool(arg)  # called only for present values; absent ones are handled in _leaf


def _cidr(arg: Any, value: Any) -> bool:
    try:
        return ipaddress.ip_address(str(value)) in ipaddress.ip_network(str(arg), strict=False)
    except ValueError:
        return False


_MATCHERS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix, "suffix": _suffix, "equals-ignore-case": _ignore_case, "wildcard": _wildcard,
    "anything-but": _anything_but, "numeric": _numeric, "exists": _exists, "cidr": _cidr,
}


def compile_filters(filter_criteria: Any) -> Callable[[dict[str, Any]], bool] | None:
    """`FilterCriteria` ({"Filters": [{"Pattern": "..."}]}) -> a predicate on a record, None if no filters.
    Filters are OR'd, as Lambda applies them."""
    filters = (filter_criteria or {}).get("Filters") if isinstance(filter_criteria, dict) else None
    if not filters:
        return None
    patterns = [parse_pattern(f.get("Pattern") if isinstance(f, dict) else f) for f in filters]
    return lambda record: any(matches(pattern, record) for pattern in patterns)


def sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The SQS record as Lambda filters it: a JSON `body` is matched as its parsed object, any other body as
    the plain string."""
    body = record.get("body")
    try:
        parsed = json.loads(body) if isinstance(body, str) else body
    except json.JSONDecodeError:
        parsed = body
    return {**record, "body": parsed if isinstance(parsed, dict | list) else body}


def kinesis_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The Kinesis record as Lambda filters it: only the `data` key, decoded from base64 and matched as its
    parsed object when it is JSON; other data stays the base64 text a data pattern will not match."""
    data = str((record.get("kinesis") or {}).get("data", ""))
    try:
        parsed = json.loads(base64.b64decode(data, validate=True))
    except (ValueError, UnicodeDecodeError):
        parsed = None
    return {"data": parsed if isinstance(parsed, dict | list) else data}

