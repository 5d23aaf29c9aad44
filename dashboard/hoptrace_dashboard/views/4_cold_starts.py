"""Cold starts: how often each function starts cold, what init costs, and which requests paid for it."""

from __future__ import annotations

import streamlit as st

from hoptrace_dashboard import charts, context, data, nav, params, queries, tables
from hoptrace_dashboard.display import duration, percent

ANY = "any"
ctx = context.current()
st.title("Cold starts")
functions = data.ask(ctx.store_url, queries.functions)
choice = params.select("Function", [ANY, *functions], "function", ANY)
function = None if choice == ANY else choice
span = {"since_ns": ctx.since_ns, "until_ns": ctx.until_ns, "function": function}

colds = data.ask(ctx.store_url, queries.cold_starts, **span)
series = data.ask(ctx.store_url, queries.function_series, bucket_s=ctx.bucket_s, **span)
invocations = int(series["invocations"].sum())
cols = st.columns(4)
cols[0].metric("Cold starts", f"{int(series['cold_starts'].sum()):,}")
cols[1].metric("Cold-start rate", percent(series["cold_starts"].sum(), invocations))
cols[2].metric("Init p50", duration(colds.frame["init_ms"].median()))
cols[3].metric("Init p95", duration(colds.frame["init_ms"].quantile(0.95)))
if colds.frame.empty:
    st.info("No cold start in this range.")
    st.stop()

left, right = st.columns(2)
left.altair_chart(charts.series(series, "cold_rate", "cold-start rate", ctx.clock, percent=True), width="stretch")
right.altair_chart(charts.histogram(colds.frame.dropna(subset=["init_ms"]), "init_ms", "init duration (ms)"),
                   width="stretch")
if not colds.complete:
    right.caption(f"Init durations of the newest {colds.limit:,} cold starts of the range.")

st.subheader("Cold vs warm")
versus = data.ask(ctx.store_url, queries.start_durations, **span)
st.altair_chart(charts.cold_vs_warm(versus.frame), width="stretch")
tables.show(versus.frame, {"function": "function", "start": "start",
                           "invocations": "invocations" if versus.complete else "invocations (sampled)",
                           "p50_ms": tables.ms("p50"), "p95_ms": tables.ms("p95")})
if versus.complete:
    st.caption("Every invocation of the range, from the store's per-minute rollups (percentiles within 2 %).")

st.subheader("Requests that waited for a cold start")
paid = data.ask(ctx.store_url, queries.cold_traces, **span)
paid = tables.with_times(paid.assign(open=[nav.page_url(ctx, "traces", trace=t) for t in paid["trace_id"]]), ctx,
                         started="start_ns")
tables.show(paid, {"started": tables.when("started", ctx), "root_service": "service", "root_name": "entry",
                   "duration_ms": tables.ms("end to end"), "init_ms": tables.ms("init paid"),
                   "init_share": tables.rate("share of the request"), "cold_functions": "cold functions",
                   "open": st.column_config.LinkColumn("flow", display_text="open →")})
