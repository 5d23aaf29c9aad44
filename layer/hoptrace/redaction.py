"""Keeps secrets out of spans: payloads are copied with sensitive keys replaced, then capped."""

from __future__ import annotations

import json
from typing import Any

REDACTED = "[REDACTED]"
_MAX_DEPTH = 12


def redact(value: Any, keys: frozenset[str], depth: int = 0) -> Any:
    """A copy of `value` with every dict key in `keys` (case-insensitive) masked, at any depth.

    JSON strings are searched too (API Gateway bodies, SQS bodies), since a secret in a
    body is as much a secret as one in a dict.
    """
    if depth > _MAX_DEPTH:
        return "[TOO DEEP]"
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and k.lower() in keys else redact(v, keys, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, keys, depth + 1) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "[") and depth < _MAX_DEPTH:
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return json.dumps(redact(parsed, keys, depth + 1), separators=(",", ":"), default=str)
    return value


def capture(value: Any, keys: frozenset[str], headers: frozenset[str], max_bytes: int) -> str:
    """A redacted, size-capped JSON rendering for the `*.payload` attributes."""
    cleaned = redact(value, keys | headers)
    text = json.dumps(cleaned, separators=(",", ":"), default=repr)
    if len(text) > max_bytes:
        return text[:max_bytes] + f"...[truncated {len(text) - max_bytes} chars]"
    return text
