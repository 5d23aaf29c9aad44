"""The one place that knows how to read the current span's ids, so log correlation (and anything else
that only needs "which span is running") does not depend on the span engine behind it.

During a batch that mixes traces, a line logged while the handler works on a record gets that record's
`process` span (`hoptrace.record_scope`), as outbound calls do.
"""

from __future__ import annotations

from typing import Any

from hoptrace import record_scope

_engine: Any = None


def use(engine: Any) -> None:
    """The engine whose current span is asked for (set once by the wrapper at init)."""
    global _engine
    _engine = engine


def current_ids() -> tuple[int, int] | None:
    """(trace id, span id) of the span running in this context, or None outside any span."""
    engine = _engine
    if engine is None:
        return None
    span = record_scope.parent(engine.current(), 2)
    return (span.trace_id, span.span_id) if span is not None else None
