"""Resolves CloudFormation intrinsic functions against the local names, ARNs and URLs of resources."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the key or list item disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class IntrinsicError(ValueError):
    """An intrinsic function could not be resolved; the message says which and why."""


@dataclass
class Scope:
    """What intrinsics resolve against: parameters, pseudo parameters, resources' Ref values and attributes."""

    parameters: dict[str, str]
    pseudo: dict[str, str]
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    #: Called for GetAtt of an attribute not yet known, e.g. to derive it lazily.
    attribute_fallback: Callable[[str, str], Any] | None = None

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise IntrinsicError(f"Ref {name!r}: no parameter or created resource has that name")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        known = self.attributes.get(logical_id, {})
        if attribute in known:
            return known[attribute]
        if self.attribute_fallback is not None:
            value = self.attribute_fallback(logical_id, attribute)
            if value is not None:
                return value
        raise IntrinsicError(f"GetAtt {logical_id}.{attribute}: not known locally for that resource")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise IntrinsicError(f"condition {name!r} is not defined in the template's Conditions")
        return bool(resolve(self.conditions[name], self))


def resolve(value: Any, scope: Scope) -> Any:
    """Return `value` with every intrinsic replaced by its local value (recursively)."""
    if isinstance(value, list):
        items = [resolve(item, scope) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        handler = _FUNCTIONS.get(key)
        if handler is not None:
            return handler(arg, scope)
    resolved = {key: resolve(item, scope) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _ref(arg: Any, scope: Scope) -> Any:
    return scope.ref(resolve(arg, scope))


def _get_att(arg: Any, scope: Scope) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    logical_id, attribute = resolve(arg[0], scope), resolve(arg[1], scope)
    return scope.get_att(logical_id, attribute)


def _sub(arg: Any, scope: Scope) -> str:
    if isinstance(arg, list):
        text, variables = arg[0], {k: resolve(v, scope) for k, v in (arg[1] or {}).items()}
    else:
        text, variables = arg, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return str(scope.get_att(logical_id, attribute))
        return str(scope.ref(name))

    return _SUB_VARIABLE.sub(replace, text)


def _join(arg: Any, scope: Scope) -> str:
    delimiter, items = arg
    return str(delimiter).join(str(item) for item in resolve(items, scope))


def _select(arg: Any, scope: Scope) -> Any:
    index, items = resolve(arg[0], scope), resolve(arg[1], scope)
    return items[int(index)]


def _split(arg: Any, scope: Scope) -> list[str]:
    delimiter, text = arg
    return str(resolve(text, scope)).split(delimiter)


def _if(arg: Any, scope: Scope) -> Any:
    name, when_true, when_false = arg
    return resolve(when_true if scope.condition(name) else when_false, scope)


def _equals(arg: Any, scope: Scope) -> bool:
    left, right = (resolve(item, scope) for item in arg)
    return str(left) == str(right)


def _not(arg: Any, scope: Scope) -> bool:
    return not resolve(arg[0], scope)


def _and(arg: Any, scope: Scope) -> bool:
    return all(resolve(item, scope) for item in arg)


def _or(arg: Any, scope: Scope) -> bool:
    return any(resolve(item, scope) for item in arg)


def _condition(arg: Any, scope: Scope) -> bool:
    return scope.condition(arg)


def _base64(arg: Any, scope: Scope) -> str:
    return base64.b64encode(str(resolve(arg, scope)).encode()).decode()


def _to_json_string(arg: Any, scope: Scope) -> str:
    return json.dumps(resolve(arg, scope), separators=(",", ":"))


def _get_azs(arg: Any, scope: Scope) -> list[str]:
    region = resolve(arg, scope) or scope.pseudo["AWS::Region"]
    return [f"{region}{zone}" for zone in "abc"]


_FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Condition": _condition,
    "Fn::Base64": _base64,
    "Fn::ToJsonString": _to_json_string,
    "Fn::GetAZs": _get_azs,
}


def references(value: Any) -> set[str]:
    """Logical ids (or parameter names) a value refers to, so resources can be created in dependency order."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                if isinstance(target, str):
                    found.add(target)
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                if isinstance(text, str):
                    for name in _SUB_VARIABLE.findall(text):
                        if not name.startswith("!"):
                            found.add(name.split(".", 1)[0])
                if isinstance(arg, list) and len(arg) > 1:
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return found
