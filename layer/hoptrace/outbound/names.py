"""Short names out of AWS identifiers, shared by the per-service modules."""

from __future__ import annotations

from typing import Any


def last_part(identifier: Any, separator: str) -> str:
    """`arn:aws:sns:…:orders` → `orders`, `https://…/123/payments` → `payments`, `fn:alias`-aware for Lambda."""
    text = str(identifier or "").rstrip(separator)
    return text.rsplit(separator, 1)[-1]


def function_name(identifier: Any) -> str:
    """A Lambda `FunctionName` (name, partial or full ARN, optional qualifier) → the name."""
    text = str(identifier or "")
    if text.startswith("arn:"):
        parts = text.split(":")
        return parts[6] if len(parts) > 6 else text
    if ":" in text:  # "123456789012:function:name" or "name:alias"
        parts = text.split(":")
        return parts[2] if len(parts) > 2 and parts[1] == "function" else parts[0]
    return text


def str_list(values: Any) -> list[str]:
    return [str(v) for v in values if v is not None]
