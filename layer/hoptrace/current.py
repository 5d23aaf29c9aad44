"""The one place that knows how to read the current span's ids, so log correlation (and anything else
that only needs "which span is running") does not depend on the span engine behind it."""

from __future__ import annotations

from opentelemetry import trace as _trace

_get_current_span = _trace.get_current_span


def current_ids() -> tuple[int, int] | None:
    """(trace id, span id) of the span running in this context, or None outside any recording span."""
    context = _get_current_span().get_span_context()
    return (context.trace_id, context.span_id) if context.span_id else None
