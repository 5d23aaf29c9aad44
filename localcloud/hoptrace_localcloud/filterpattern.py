"""CloudWatch Logs filter patterns for unstructured lines: "", terms, "quoted phrases", ?any-of, -excluded
and %regex%. JSON (`{ $.x = ... }`) and space-delimited (`[a, b]`) patterns are not supported."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable


class UnsupportedPattern(ValueError):
    pass


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """Return a predicate on a log line; raise UnsupportedPattern for pattern kinds not emulated."""
    text = (pattern or "").strip()
    if not text:
        return lambda line: True
    if text.startswith(("{", "[")):
        raise UnsupportedPattern(f"filter pattern {pattern!r}: JSON and space-delimited patterns are not "
                                 "supported locally; use terms, \"phrases\", ?any, -exclude or %regex%")
    if len(text) > 1 and text.startswith("%") and text.endswith("%"):
        regex = re.compile(text[1:-1])
        return lambda line: regex.search(line) is not None
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise UnsupportedPattern(f"filter pattern {pattern!r}: {exc}") from exc
    required = [t for t in tokens if not t.startswith(("?", "-"))]
    any_of = [t[1:] for t in tokens if t.startswith("?") and len(t) > 1]
    excluded = [t[1:] for t in tokens if t.startswith("-") and len(t) > 1]

    def matches(line: str) -> bool:
        if any(term in line for term in excluded):
            return False
        if any(term not in line for term in required):
            return False
        return not any_of or any(term in line for term in any_of)

    return matches
