"""The JSONPath subset ASL uses: `$`, `$.a.b`, `$['a b']`, `$.a[0]`, `$.a[-1]`, `$.a[*].b`, `$..b`,
`$.a[1:3]`, `$.a[?(@.x == 1)]`, and `$$` for the context object; plus ResultPath's "set at path"."""

from __future__ import annotations

import copy
import re
from typing import Any

from .errors import StatesError

_TOKEN = re.compile(
    r"""\.\.(?P<deep>[^.\[\]]+|\*)"""
    r"""|\.(?P<name>[^.\[\]]+)"""
    r"""|\[\s*(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*\]"""
    r"""|\[\s*(?P<index>-?\d+)\s*\]"""
    r"""|\[\s*(?P<slice>-?\d*\s*:\s*-?\d*)\s*\]"""
    r"""|\[\s*(?P<star>\*)\s*\]"""
    r"""|\[\s*\?\(\s*@\.(?P<fkey>[\w-]+)\s*(?P<fop>==|!=|<=|>=|<|>)\s*(?P<fval>'[^']*'|"[^"]*"|-?[\d.]+|true|false|null)\s*\)\s*\]"""
)
_MISSING = object()
_KEYWORDS = {"true": True, "false": False, "null": None}
_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
          "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _tokens(path: str) -> list[tuple[str, Any]]:
    rest = path[1:]
    out: list[tuple[str, Any]] = []
    while rest:
        match = _TOKEN.match(rest)
        if match is None:
            raise ValueError(f"invalid JSONPath {path!r} at {rest!r}")
        kind = match.lastgroup
        if match.group("fkey"):
            out.append(("filter", (match.group("fkey"), match.group("fop"), _literal(match.group("fval")))))
        elif kind == "quoted":
            out.append(("name", match.group("quoted")[1:-1].replace("\\'", "'").replace('\\"', '"')))
        elif kind == "index":
            out.append(("index", int(match.group("index"))))
        elif kind == "slice":
            start, _, stop = match.group("slice").partition(":")
            out.append(("slice", (int(start) if start.strip() else None, int(stop) if stop.strip() else None)))
        elif kind is None:  # only the empty filter group matched
            raise ValueError(f"invalid JSONPath {path!r} at {rest!r}")
        else:
            out.append((kind, match.group(kind)))
        rest = rest[match.end():]
    return out


def _literal(text: str) -> Any:
    if text[0] in "'\"":
        return text[1:-1]
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    return float(text) if "." in text else int(text)


def _descend(values: list[Any], kind: str, arg: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if kind == "name":
            if isinstance(value, dict) and arg in value:
                out.append(value[arg])
        elif kind == "index":
            if isinstance(value, list) and -len(value) <= arg < len(value):
                out.append(value[arg])
        elif kind == "slice":
            if isinstance(value, list):
                out.extend(value[arg[0]:arg[1]])
        elif kind == "star":
            out.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else [])
        elif kind == "deep":
            out.extend(_deep(value, arg))
        elif kind == "filter":
            key, op, expected = arg
            items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else []
            out.extend(item for item in items if isinstance(item, dict) and key in item
                       and _compare(item[key], op, expected))
    return out


def _deep(value: Any, name: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if name == "*" or key == name:
                found.append(child)
            found.extend(_deep(child, name))
    elif isinstance(value, list):
        for child in value:
            if name == "*":
                found.append(child)
            found.extend(_deep(child, name))
    return found


def _compare(actual: Any, op: str, expected: Any) -> bool:
    try:
        return bool(_ORDER[op](actual, expected))
    except TypeError:
        return False


def _is_definite(tokens: list[tuple[str, Any]]) -> bool:
    return all(kind in ("name", "index") for kind, _ in tokens)


def evaluate(path: str, data: Any, context: Any = None) -> Any:
    """The value at `path` (`$...` in `data`, `$$...` in `context`); a path that selects several values
    (wildcards, filters, slices, `..`) returns a list. No match is a States.Runtime error, as on AWS."""
    root, text = (context, path[1:]) if path.startswith("$$") else (data, path)
    if not text.startswith("$"):
        raise StatesError("States.Runtime", f"{path!r} is not a JSONPath (it must start with '$')")
    try:
        tokens = _tokens(text)
    except ValueError as exc:
        raise StatesError("States.Runtime", str(exc)) from None
    values = [root]
    for kind, arg in tokens:
        values = _descend(values, kind, arg)
    if _is_definite(tokens):
        if not values:
            raise StatesError("States.Runtime", f"the JSONPath {path!r} could not be found in the input "
                                                f"{_preview(root)}")
        return values[0]
    return values


def _preview(value: Any) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= 200 else text[:200] + "…"


def set_path(data: Any, path: str | None, value: Any) -> Any:
    """ResultPath: `$` replaces the input, `null` discards the result, `$.a.b` writes into a copy of the input
    (creating objects on the way)."""
    if path is None:
        return data
    if path == "$":
        return value
    try:
        tokens = _tokens(path)
    except ValueError as exc:
        raise StatesError("States.ResultPathMatchFailure", str(exc)) from None
    if not tokens or not all(kind == "name" or kind == "index" for kind, _ in tokens):
        raise StatesError("States.ResultPathMatchFailure", f"ResultPath {path!r} must be a reference path")
    result = copy.deepcopy(data) if isinstance(data, dict | list) else data
    if not isinstance(result, dict | list):
        raise StatesError("States.ResultPathMatchFailure",
                          f"unable to apply ResultPath {path!r} to input {_preview(data)}")
    node = result
    for (kind, arg), (next_kind, _) in zip(tokens, [*tokens[1:], ("end", None)], strict=True):
        last = next_kind == "end"
        if kind == "name":
            if not isinstance(node, dict):
                raise StatesError("States.ResultPathMatchFailure",
                                  f"unable to apply ResultPath {path!r}: {arg!r} is not inside an object")
            if last:
                node[arg] = value
            else:
                child = node.get(arg, _MISSING)
                if not isinstance(child, dict | list):
                    child = node[arg] = {}
                node = child
        else:
            if not isinstance(node, list) or not -len(node) <= arg < len(node):
                raise StatesError("States.ResultPathMatchFailure",
                                  f"unable to apply ResultPath {path!r}: index {arg} is out of range")
            if last:
                node[arg] = value
            else:
                node = node[arg]
    return result
