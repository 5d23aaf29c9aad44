"""The ingest JSON layer: orjson when installed, the standard library otherwise, with the same answers."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import pytest

from hoptrace_collector import jsonlib

ACCEPTED = ['{"a":1,"b":[true,null,1.5,"é☃"]}', '"\\ud800"', '"\\ud83d\\ude00"', "NaN", "[Infinity]", '{"a":1e400}',
            "[" * 1500 + "]" * 1500, '{"k":"\\u0000"}', "  [1]  "]
REFUSED = ["", "{", '{"a":}', "[1,]", "\x00", "[" * 10_000 + "]" * 10_000]


def outcome(call: Any, text: str) -> Any:
    try:
        return ("ok", repr(call(text)))
    except ValueError as exc:
        return ("ValueError", str(exc))
    except RecursionError:
        return ("RecursionError",)


@pytest.mark.parametrize("text", ACCEPTED + REFUSED)
def test_loads_answers_as_the_standard_library_does(text: str) -> None:
    assert outcome(jsonlib.loads, text) == outcome(json.loads, text)


@pytest.mark.parametrize("value", [{"a": 1, "b": [True, None, 1.5, "é☃"]}, {"big": 2**70}, {"t": "\u2028"}, [], {}])
def test_dumps_writes_what_the_stores_always_wrote(value: Any) -> None:
    assert jsonlib.dumps(value) == jsonlib.std_dumps(value)


def test_without_orjson_the_standard_library_serves() -> None:
    saved = sys.modules.get("orjson")
    sys.modules["orjson"] = None  # type: ignore[assignment]  # makes `import orjson` raise ImportError
    try:
        fallback = importlib.reload(jsonlib)
        assert not fallback.FAST and fallback.loads is json.loads
        assert fallback.dumps({"a": "é"}) == '{"a":"é"}'
    finally:
        if saved is None:
            del sys.modules["orjson"]
        else:
            sys.modules["orjson"] = saved
        importlib.reload(jsonlib)
