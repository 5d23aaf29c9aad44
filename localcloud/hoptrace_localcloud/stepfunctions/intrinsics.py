"""`States.*` intrinsic functions, as used in `"key.$": "States.Format('{}', $.name)"` payload templates."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

from . import paths
from .errors import INTRINSIC_FAILURE, StatesError

_ARG = re.compile(r"""\s*(?:'(?P<str>(?:[^'\\]|\\.)*)'|(?P<num>-?\d+(?:\.\d+)?)(?=\s*[,)])
                     |(?P<kw>true|false|null)(?=\s*[,)])|(?P<fn>States\.\w+)\s*\(|(?P<path>\$\$?[^,()]*))\s*""", re.X)


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.")


def call(expression: str, data: Any, context: Any) -> Any:
    """Evaluate one intrinsic expression against the state's input (`$`) and the context object (`$$`)."""
    value, rest = _parse_call(expression, 0, data, context)
    if expression[rest:].strip():
        raise StatesError(INTRINSIC_FAILURE, f"unexpected text after the call in {expression!r}")
    return value


def _parse_call(text: str, pos: int, data: Any, context: Any) -> tuple[Any, int]:
    match = re.compile(r"\s*(States\.\w+)\s*\(").match(text, pos)
    if match is None:
        raise StatesError(INTRINSIC_FAILURE, f"{text!r} is not an intrinsic function call")
    name, pos = match.group(1), match.end()
    function = _FUNCTIONS.get(name)
    if function is None:
        raise StatesError(INTRINSIC_FAILURE, f"{name} is not an intrinsic function Step Functions knows")
    args: list[Any] = []
    while True:
        if text[pos:].lstrip().startswith(")"):
            pos = text.index(")", pos) + 1
            break
        arg = _ARG.match(text, pos)
        if arg is None:
            raise StatesError(INTRINSIC_FAILURE, f"cannot read the arguments of {name} in {text!r}")
        if arg.group("fn"):
            value, pos = _parse_call(text, arg.start("fn"), data, context)
        else:
            value, pos = _scalar(arg, data, context), arg.end()
        args.append(value)
        sep = re.compile(r"\s*([,)])").match(text, pos)
        if sep is None:
            raise StatesError(INTRINSIC_FAILURE, f"expected ',' or ')' in {text!r} at {pos}")
        pos = sep.end()
        if sep.group(1) == ")":
            break
    try:
        return function(*args), pos
    except StatesError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise StatesError(INTRINSIC_FAILURE, f"{name}: {exc}") from None


def _scalar(arg: re.Match[str], data: Any, context: Any) -> Any:
    if arg.group("str") is not None:
        return re.sub(r"\\(.)", r"\1", arg.group("str"))
    if arg.group("num") is not None:
        text = arg.group("num")
        return float(text) if "." in text else int(text)
    if arg.group("kw") is not None:
        return {"true": True, "false": False, "null": None}[arg.group("kw")]
    return paths.evaluate(arg.group("path").strip(), data, context)


def _format(template: str, *values: Any) -> str:
    pieces = re.split(r"(?<!\\)\{\}", template)
    if len(pieces) - 1 != len(values):
        raise StatesError(INTRINSIC_FAILURE, f"States.Format: {len(pieces) - 1} placeholders, {len(values)} values")
    out = pieces[0]
    for value, piece in zip(values, pieces[1:], strict=True):
        out += (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))) + piece
    return out.replace("\\{", "{").replace("\\}", "}")


def _partition(array: list[Any], size: int) -> list[list[Any]]:
    if int(size) <= 0:
        raise ValueError("the chunk size must be positive")
    return [array[i:i + int(size)] for i in range(0, len(array), int(size))]


def _range(start: int, end: int, step: int) -> list[int]:
    if step == 0:
        raise ValueError("the step must not be 0")
    result = list(range(int(start), int(end) + (1 if step > 0 else -1), int(step)))
    if len(result) > 1000:
        raise ValueError("an array range holds at most 1,000 items")
    return result


def _unique(array: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in array:
        if item not in seen:
            seen.append(item)
    return seen


def _merge(left: dict[str, Any], right: dict[str, Any], deep: bool) -> dict[str, Any]:
    if deep:
        raise StatesError(INTRINSIC_FAILURE, "States.JsonMerge supports only a shallow merge (false)")
    return {**left, **right}


def _hash(value: Any, algorithm: str) -> str:
    names = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
    if algorithm not in names:
        raise ValueError(f"algorithm {algorithm!r} is not one of {', '.join(names)}")
    text = value if isinstance(value, str) else json.dumps(value)
    return hashlib.new(names[algorithm], text.encode()).hexdigest()


def _random(start: int, end: int, seed: Any = None) -> int:
    return (random.Random(seed) if seed is not None else random).randint(int(start), int(end))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "States.Format": _format,
    "States.StringToJson": lambda text: json.loads(text),
    "States.JsonToString": lambda value: json.dumps(value, separators=(",", ":")),
    "States.Array": lambda *values: list(values),
    "States.ArrayPartition": _partition,
    "States.ArrayContains": lambda array, value: value in array,
    "States.ArrayRange": _range,
    "States.ArrayGetItem": lambda array, index: array[int(index)],
    "States.ArrayLength": lambda array: len(array),
    "States.ArrayUnique": _unique,
    "States.Base64Encode": lambda text: base64.b64encode(text.encode()).decode(),
    "States.Base64Decode": lambda text: base64.b64decode(text).decode(),
    "States.Hash": _hash,
    "States.JsonMerge": _merge,
    "States.MathRandom": _random,
    "States.MathAdd": lambda a, b: int(a) + int(b),
    "States.StringSplit": lambda text, chars: [p for p in re.split("|".join(map(re.escape, chars)), text) if p],
    "States.UUID": lambda: str(uuid.uuid4()),
}
