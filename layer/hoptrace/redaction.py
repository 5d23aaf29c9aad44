"""Keeps secrets out of spans: payloads are copied with sensitive keys replaced, then capped."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[REDACTED]"
_MAX_DEPTH = 12
_QUERY_KEYS = frozenset({"rawquerystring", "querystring"})  # query strings inside captured events
ALWAYS_REDACTED_KEYS = frozenset({"cookies"})  # HTTP API v2 carries cookies outside the headers


def redact_query_string(query: Any, keys: frozenset[str]) -> str:
    """Query strings carry api keys and tokens as often as headers do: mask the values of sensitive names."""
    if not query or not isinstance(query, str):
        return ""
    try:
        pairs = parse_qsl(query, keep_blank_values=True)
    except ValueError:
        return REDACTED
    if not any(k.lower() in keys for k, _ in pairs):
        return query
    return urlencode([(k, REDACTED if k.lower() in keys else v) for k, v in pairs], safe="[]")


def _redact_item(key: Any, value: Any, keys: frozenset[str], depth: int) -> Any:
    if isinstance(key, str):
        lowered = key.lower()
        if lowered in keys:
            return REDACTED
        if lowered in _QUERY_KEYS and isinstance(value, str):
            return redact_query_string(value, keys)
    return redact(value, keys, depth + 1)


def redact(value: Any, keys: frozenset[str], depth: int = 0) -> Any:
    """A copy of `value` with every dict key in `keys` (case-insensitive) masked, at any depth.

    JSON strings are searched too (API Gateway bodies, SQS bodies), since a secret in a
    body is as much a secret as one in a dict.
    """
    if depth > _MAX_DEPTH:
        return "[TOO DEEP]"
    if isinstance(value, dict):
        return {k: _redact_item(k, v, keys, depth) for k, v in value.items()}
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
    cleaned = redact(value, keys | headers | ALWAYS_REDACTED_KEYS)
    text = json.dumps(cleaned, separators=(",", ":"), default=repr)
    if len(text) > max_bytes:
        return text[:max_bytes] + f"...[truncated {len(text) - max_bytes} chars]"
    return text
