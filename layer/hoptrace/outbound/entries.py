"""Batch entries are the caller's own objects: context goes into copies, never into them.

A caller may build `Entries` once and send it twice, or keep the dicts it passed. Writing our
context into them would change what the caller holds, and the second send would find "its own"
`traceparent` (the first call's, stale) and keep it. `params` itself is botocore's fresh `**kwargs`
dict, so it may take the new list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def inject_each(params: dict[str, Any], key: str, inject: Callable[[dict[str, Any]], None]) -> None:
    """`params[key]` as a new list of shallow copies of its dict entries, `inject` applied to each copy."""
    entries = params.get(key)
    if not isinstance(entries, list | tuple):
        return
    copies: list[Any] = []
    for entry in entries:
        if isinstance(entry, dict):
            entry = dict(entry)
            inject(entry)
        copies.append(entry)
    params[key] = copies
