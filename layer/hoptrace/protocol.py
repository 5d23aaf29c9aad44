"""Names the layer writes into user-visible payloads and the collector reads back: one place for both.

Kept free of imports and side effects so the collector (DLQ watcher) can read the key without loading
the layer's trigger registry.
"""

from __future__ import annotations

# The reserved key that carries W3C context inside an EventBridge `detail` and an asynchronous
# `Invoke` payload: AWS drops `TraceHeader` on the way to targets, so context must travel in the data.
CARRIER_KEY = "_hoptrace"

HEX_DIGITS = frozenset("0123456789abcdef")  # W3C and X-Ray ids are lowercase hex


def is_hex(value: str, length: int) -> bool:
    """`value` is exactly `length` lowercase hex digits (trace and span ids, flags, X-Ray parts)."""
    return len(value) == length and HEX_DIGITS.issuperset(value)
