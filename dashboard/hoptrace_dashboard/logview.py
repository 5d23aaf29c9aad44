"""The trace page's log panels: a span's invocation log, the whole trace as one timeline of spans and log
lines, a failed record's logged cause, and the dead-letter queue as the trace's last hop.

Log text is the application's: shown in tables and code blocks, never as Markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hoptrace_collector.store import LogLine, SpanRecord
from hoptrace_dashboard import charts, flow, tables
from hoptrace_dashboard.context import Context
from hoptrace_dashboard.tracelogs import DlqEnd, TraceLogs

MS = 1_000_000
ERROR_STYLE = "color: #d62728; font-weight: 600"
LOG_COLUMNS = ["time", "at_ms", "level", "function", "message"]


def _frame(lines: list[LogLine], rebuilt: flow.Flow, ctx: Context) -> pd.DataFrame:
    return pd.DataFrame([[ctx.clock.label(x.time_ns)[11:], (x.time_ns - rebuilt.start_ns) / MS,
                          x.level or "print", x.function, x.message] for x in lines], columns=LOG_COLUMNS)


def _styled(frame: pd.DataFrame) -> object:
    errors = frame["level"].isin(["ERROR", "CRITICAL", "FATAL"])
    return frame.style.apply(lambda row: [ERROR_STYLE if errors[row.name] else ""] * len(row), axis=1)


def span_logs(ctx: Context, rebuilt: flow.Flow, logs: TraceLogs, span: SpanRecord) -> None:
    """The log lines of the selected span's invocation, in time order, errors in red."""
    lines = logs.of_span(span)
    st.markdown(f"**Logs of this span's invocation** ({len(lines)} line{'s' if len(lines) != 1 else ''})")
    if not lines:
        st.caption("No log line is stored for this span's invocation (lines arrive a few seconds after it ends; "
                   "the subscription filter must ship application lines, see docs/collector.md).")
        return
    frame = _frame(lines, rebuilt, ctx)
    tables.show(_styled(frame), {"time": f"time ({ctx.clock.name})", "at_ms": tables.ms("at"), "level": "level",
                                 "message": "message"}, key="span_logs")


def causes(logs: TraceLogs, span: SpanRecord) -> None:
    """Inside a failed span's error box: the lines logged while it was processed."""
    lines = logs.cause(span)
    if lines:
        st.caption("Logged while this was processed:")
        st.code("\n".join(x.message for x in lines), language=None)


def timeline(ctx: Context, rebuilt: flow.Flow, logs: TraceLogs, ends: list[DlqEnd]) -> None:
    """Spans starting and ending, log lines and dead-letterings of the whole trace, in one time order."""
    if not logs.lines and not ends:
        return
    rows = []
    for span in rebuilt.spans.values():
        rows.append([span.start_ns, "span start", "", span.function, span.name])
        rows.append([span.end_ns, "span end", "error" if span.status == "error" else "",
                     span.function, f"{span.name} {span.status_message}".strip()])
    for line in logs.lines:
        rows.append([line.time_ns, "log", line.level or "print", line.function, line.message])
    for end in ends:
        rows.append([end.first_seen_ns, "dead-letter", "ERROR", end.source_queue, f"→ {end.queue} after "
                     f"{end.receive_count} receive{'s' if end.receive_count != 1 else ''}"])
    frame = pd.DataFrame(rows, columns=["time_ns", "what", "level", "function", "text"]).sort_values(
        "time_ns", kind="stable").reset_index(drop=True)
    frame["at_ms"] = (frame["time_ns"] - rebuilt.start_ns) / MS
    errors = frame["level"].isin(["error", "ERROR", "CRITICAL", "FATAL"])
    styled = frame.style.apply(lambda row: [ERROR_STYLE if errors[row.name] else ""] * len(row), axis=1)
    with st.expander(f"Timeline — spans and log lines interleaved ({len(logs.lines)} log lines)",
                     icon=":material/view_timeline:"):
        tables.show(styled, {"at_ms": tables.ms("at"), "what": "what", "function": "function", "level": "level",
                             "text": "text"}, key="timeline")


def with_dlq_hops(rebuilt: flow.Flow, ends: list[DlqEnd]) -> pd.DataFrame:
    """The hops table, ending with `→ <DLQ> after N receives` for each message of the trace that died."""
    if not ends:
        return rebuilt.hops
    extra = pd.DataFrame([[(e.first_seen_ns - rebuilt.start_ns) / MS, e.source_queue or "(failed invocations)",
                           e.queue, "→ DLQ", f"after {e.receive_count} receive{'s' if e.receive_count != 1 else ''}",
                           None, "", "error"] for e in ends], columns=flow.HOP_COLUMNS)
    return pd.concat([rebuilt.hops, extra], ignore_index=True).astype({"wait_ms": float})


def with_dlq_segments(rebuilt: flow.Flow, ends: list[DlqEnd]) -> pd.DataFrame:
    """The waterfall's bars and one red mark per dead-lettering, on its own last row."""
    if not ends:
        return rebuilt.segments
    last = int(rebuilt.segments["row"].max()) + 1 if not rebuilt.segments.empty else 0
    span = max(rebuilt.duration_ms, 1.0) * 0.01
    marks = []
    for i, end in enumerate(ends):
        at = (end.first_seen_ns - rebuilt.start_ns) / MS
        label = f"{last + i + 1:>3}  → {end.queue} (dead-letter queue)"
        marks.append([last + i, label, "", charts.DLQ, at, at + span, 0.0, end.queue, "error", "→ DLQ",
                      f"after {end.receive_count} receives: {end.error}"])
    return pd.concat([rebuilt.segments, pd.DataFrame(marks, columns=flow.SEGMENT_COLUMNS)], ignore_index=True)
