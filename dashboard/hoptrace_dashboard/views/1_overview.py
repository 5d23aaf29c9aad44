"""Overview: how each function is doing in the range, what is firing, and the traces to look at first."""

from __future__ import annotations

import streamlit as st

from hoptrace_dashboard import alerts, charts, context, data, nav, queries, tables
from hoptrace_dashboard.display import percent, period

ctx = context.current()
st.title("Overview")
span = {"since_ns": ctx.since_ns, "until_ns": ctx.until_ns}
stats = data.ask(ctx.store_url, queries.function_table, **span)

firing = alerts.firing(ctx) if alerts.available() else None
if firing is None:
    nav.link(ctx, "alerts", "Alerts: no alert rules yet (what they will cover)", icon=":material/notifications:")
elif firing.empty:
    st.success("No alert is firing.")
else:
    st.error(f"{len(firing)} alert(s) firing")
    tables.show(firing, {c: c for c in alerts.FIRING_COLUMNS})

invocations, errors, colds = (int(stats[c].sum()) for c in ("invocations", "errors", "cold_starts"))
cols = st.columns(4)
cols[0].metric("Invocations", f"{invocations:,}")
cols[1].metric("Error rate", percent(errors, invocations))
cols[2].metric("Cold-start rate", percent(colds, invocations))
cols[3].metric("Functions", len(stats))

st.subheader("Per function")
if stats.empty:
    st.caption("No invocations in this range.")
else:
    stats = stats.assign(traces=[nav.page_url(ctx, "traces", function=f) for f in stats["function"]])
    tables.show(stats, {
        "function": "function", "invocations": "invocations", "errors": "errors",
        "error_rate": tables.rate("error rate"), "cold_starts": "cold starts", "cold_rate": tables.rate("cold rate"),
        "p50_ms": tables.ms("p50"), "p95_ms": tables.ms("p95"), "p99_ms": tables.ms("p99"),
        "traces": st.column_config.LinkColumn("traces", display_text="open →"),
    })
    silent = data.ask(ctx.store_url, queries.without_platform_lines,
                      invoked=tuple(stats.loc[stats["invocations"] > 0, "function"]), **span)
    if silent:
        st.warning(f"No platform lines from {', '.join(silent)}: spans arrive, but no START/REPORT "
                   "(or platform.start/report) lines, so cold starts, timeouts and crashes of "
                   f"{'this function' if len(silent) == 1 else 'these functions'} cannot be seen and print "
                   "lines cannot be tied to an invocation. Usual cause: LoggingConfig.SystemLogLevel WARN or "
                   "higher (set it to INFO), or a subscription filter pattern that drops them (use \"\").",
                   icon=":material/visibility_off:")
    series = data.ask(ctx.store_url, queries.function_series, bucket_s=ctx.bucket_s, **span)
    left, right = st.columns(2)
    left.altair_chart(charts.series(series, "invocations", f"invocations per {period(ctx.bucket_s)}", ctx.clock),
                      width="stretch")
    right.altair_chart(charts.series(series, "error_rate", "error rate", ctx.clock, percent=True), width="stretch")
    left.altair_chart(charts.series(series, "p95_ms", "p95 duration", ctx.clock, unit="ms"), width="stretch")
    right.altair_chart(charts.series(series, "cold_rate", "cold-start rate", ctx.clock, percent=True),
                       width="stretch")

slow_col, failed_col = st.columns(2)
slow_col.subheader("Slowest traces")
slowest = data.ask(ctx.store_url, queries.slowest_traces, **span)
tables.trace_links(slowest.frame, ctx, where=slow_col, icon=":material/timer:")
if not slowest.complete:
    slow_col.caption(f"Among the {slowest.limit} longest-running candidates the store returned.")
failed_col.subheader("Failed traces")
failed = data.ask(ctx.store_url, queries.failed_traces, **span)
tables.trace_links(failed, ctx, where=failed_col, icon=":material/error:", empty="No failed trace in this range.")
if not failed.empty:
    nav.link(ctx, "traces", "All failed traces of the range", where=failed_col, status="error")
