"""Counts what hoptrace itself got wrong, so failures are visible without touching the handler.

Every guarded step reports here instead of raising. Counts ride on the next span line
(`health`), and the first failure of each kind is printed once to stderr so an operator
reading the function's log sees why spans are missing.
"""

from __future__ import annotations

import sys
from collections import Counter

from hoptrace.redaction import redact_text

# What went wrong since the last line carried it: read directly by the line writer (`export.write`), which
# pays one truth test per invocation while nothing did (`drain`/`clear` for everyone else).
COUNTS: Counter[str] = Counter()
_REPORTED: set[str] = set()


def swallow(where: str, error: BaseException | None = None) -> None:
    COUNTS[where] += 1
    if where not in _REPORTED:
        _REPORTED.add(where)
        detail = f" ({type(error).__name__}: {redact_text(str(error))})" if error is not None else ""
        try:
            print(f"hoptrace: internal error in {where}{detail}; the handler is unaffected", file=sys.stderr)
        except Exception:  # stderr itself may be closed: nothing more to do
            pass


def skipped(where: str, reason: str) -> None:
    """Context deliberately not injected (a limit would be broken): counted, explained once."""
    COUNTS[where] += 1
    if where not in _REPORTED:
        _REPORTED.add(where)
        try:
            print(f"hoptrace: {reason}; trace context not injected (counted as {where!r})", file=sys.stderr)
        except Exception:
            pass


def drain() -> dict[str, int]:
    """Counts since the last drain; cleared only when a line carrying them was written."""
    return dict(COUNTS)


def clear() -> None:
    COUNTS.clear()
