"""Failures & DLQ: errors grouped, async retries, dead-lettered messages with their trace, platform deaths."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hoptrace_dashboard import context, data, nav, params, queries, tables
from hoptrace_dashboard.display import md

ANY = "any"
ctx = context.current()
st.title("Failures & DLQ")
functions = data.ask(ctx.store_url, queries.functions)
choice = params.select("Function", [ANY, *functions], "function", ANY)
span = {"since_ns": ctx.since_ns, "until_ns": ctx.until_ns, "function": None if choice == ANY else choice}


def flow_links(frame: pd.DataFrame, column: str = "trace_id") -> pd.DataFrame:
    """The frame with an `open` column linking each row's trace (blank when the trace is unknown)."""
    return frame.assign(open=[nav.page_url(ctx, "traces", trace=t) if t else None for t in frame[column]])


LINK = st.column_config.LinkColumn("flow", display_text="open →")

st.subheader("Dead-letter queues")
dlq = data.ask(ctx.store_url, queries.dlq)
if dlq.empty:
    st.caption("No message has been recorded in a dead-letter queue.")
else:
    counts = dlq.groupby("queue").size()
    cols = st.columns(min(len(counts), 4))
    for i, (queue, count) in enumerate(counts.items()):
        cols[i % len(cols)].metric(md(queue), f"{count} message{'s' if count != 1 else ''}")
    shown = tables.with_times(flow_links(dlq), ctx, first_seen="first_seen_ns")
    tables.show(shown, {"first_seen": tables.when("first seen", ctx), "queue": "queue", "source_queue": "from queue",
                        "receive_count": "received", "error": "error that sent it there",
                        "cause": "logged cause", "open": LINK,
                        "body_preview": "body", "message_id": "message id"}, key="dlq")
    st.caption("Every message the DLQ watcher recorded, newest first (not limited to the time range). "
               "\"received\" is how often consumers received the message before it was dead-lettered "
               "(SQS's ApproximateReceiveCount at the watcher's first look, less that look itself: "
               "each later peek is a receive too). \"logged cause\" is what the failed invocations logged "
               "about the message.")

st.subheader("Failed invocations by error")
failed = data.ask(ctx.store_url, queries.failures, **span)
groups = failed.groups
if groups.frame.empty:
    st.caption("No failed invocation in this range.")
else:
    shown = tables.with_times(flow_links(groups.frame, "example_trace"), ctx, first="first_ns", last="last_ns")
    tables.show(shown, {"function": "function", "what": "what failed", "error": "error", "count": "count",
                        "last": tables.when("last", ctx), "first": tables.when("first", ctx),
                        "example_message": "latest message", "example_cause": "logged cause",
                        "open": LINK}, key="groups")
    if not groups.complete:
        st.caption(f"Grouped from the newest {groups.limit:,} failed spans of the range.")

st.subheader("Retries of asynchronous invocations")
retries = failed.retries
if retries.empty:
    st.caption("No asynchronous invocation (SNS, EventBridge, async Invoke) failed in this range.")
else:
    shown = tables.with_times(flow_links(retries), ctx, last="last_ns")
    tables.show(shown, {"function": "function", "event": "event", "attempts": "attempts",
                        "failed_attempts": "failed", "outcome": "outcome", "error": "error",
                        "last": tables.when("last attempt", ctx), "open": LINK}, key="retries")

st.subheader("Timeouts, crashes and out-of-memory deaths")
deaths = data.ask(ctx.store_url, queries.platform_failures, **span)
if deaths.empty:
    st.caption("The platform reported no timeout, crash or out-of-memory death in this range.")
else:
    shown = tables.with_times(flow_links(deaths), ctx, time="time_ns")
    tables.show(shown, {"time": tables.when("time", ctx), "function": "function", "outcome": "outcome",
                        "duration_ms": tables.ms("ran for"), "max_memory_mb": "memory used (MB)",
                        "memory_mb": "memory size (MB)", "message": "platform message", "open": LINK,
                        "request_id": "request id"}, key="deaths")
