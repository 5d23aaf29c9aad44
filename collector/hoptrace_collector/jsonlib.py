"""JSON for the ingest hot path: orjson when installed, the standard library otherwise (same results).

orjson has wheels for every runtime and architecture the collector ships to (CPython 3.9-3.13,
manylinux x86_64 and aarch64: Lambda's python3.x on x86_64 and arm64) and parses a subscription
payload about 2-3x faster than `json`. Anything orjson refuses that `json` accepts (NaN, numbers
past 64 bits, nesting past 1,024 levels, lone surrogate escapes) is handed to `json`, so what
is accepted, and every error message and RecursionError, stays exactly the standard library's.
One difference is kept on purpose: orjson reads an integer past 64 bits as a float.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)

try:
    import orjson
except ImportError:  # pragma: no cover - exercised by the fallback test with orjson hidden
    orjson = None  # type: ignore[assignment]  # then every name below falls back to json

FAST = orjson is not None


def std_dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is (the form the stores hold)."""
    return _ENCODER.encode(value)


if orjson is not None:
    _orjson_loads, _orjson_dumps, _Refused = orjson.loads, orjson.dumps, orjson.JSONDecodeError

    def loads(text: str | bytes) -> Any:
        """`json.loads`, faster."""
        try:
            return _orjson_loads(text)
        except _Refused:
            return json.loads(text)

    def dumps(value: Any) -> str:
        """`std_dumps`, faster (orjson writes NaN and infinities as null, where `json` writes bare NaN)."""
        try:
            return _orjson_dumps(value, default=str).decode()
        except TypeError:  # an integer past 64 bits, a non-string key
            return _ENCODER.encode(value)
else:
    loads = json.loads
    dumps = std_dumps
