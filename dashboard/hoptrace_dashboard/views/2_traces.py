"""Traces: search by service, function, status, cold start, duration, ids and text; the selected trace's flow."""

from __future__ import annotations

import streamlit as st

from hoptrace_dashboard import context, data, flowview, params, queries, tables

ANY = "any"
ctx = context.current()
st.title("Traces")

search = st.sidebar.container(border=True)
search.markdown("**Search**")
functions = data.ask(ctx.store_url, queries.functions)
services = data.ask(ctx.store_url, queries.services)
service = params.select("Service", [ANY, *services], "service", ANY, where=search)
function = params.select("Function", [ANY, *functions], "function", ANY, where=search)
status = params.select("Status", [ANY, "error", "ok"], "status", ANY, where=search,
                       format_func={ANY: "any", "error": "failed (any span errored)", "ok": "no error"}.__getitem__)
cold = params.select("Cold start", [ANY, "yes", "no"], "cold", ANY, where=search)
min_ms = params.number("Minimum duration (ms)", "min_ms", where=search)
find = params.text("Trace id or request id", "find", where=search, placeholder="32 hex digits, or a request id")
text = params.text("Text in span names or attributes", "q", where=search, placeholder="e.g. PaymentFailed")

trace_id = params.get("trace")
if trace_id:
    flowview.render(ctx, trace_id.strip().lower())
    st.divider()

found = data.ask(ctx.store_url, queries.trace_list, service=None if service == ANY else service,
                 function=None if function == ANY else function, status=None if status == ANY else status,
                 cold_start={ANY: None, "yes": True, "no": False}[cold], min_duration_ms=min_ms,
                 since_ns=ctx.since_ns, until_ns=ctx.until_ns, find=find, text=text)
plural = "" if len(found) == 1 else "s"
st.subheader(f"{len(found)} trace{plural}" + (" (the newest shown)" if len(found) >= 200 else ""))
if find:
    st.caption("Looking up an id searches the whole store, not only the time range.")
elif text and len(found) < 200:
    st.caption("A text search looks through the newest traces of the range only (10,000 in the SQLite store, "
               "2,000 in DynamoDB): narrow the range to search further back.")
if found.empty:
    st.caption("No trace matches these filters in this range. Widen the time range in the sidebar or clear a filter.")
else:
    key = f"results.{hash(tuple(found['trace_id']))}"

    def picked() -> None:
        rows = st.session_state[key].selection.rows
        if rows:
            params.put("trace", found["trace_id"].iloc[rows[0]])
            params.put("span", None)

    shown = tables.with_times(found, ctx, started="start_ns")
    # Errors and cold starts come before the wide text columns, so a 1400 px window never scrolls them away.
    tables.show(shown, {"started": tables.when("started", ctx), "duration_ms": tables.ms("duration"),
                        "error_count": st.column_config.NumberColumn("errors", width="small"),
                        "cold_starts": st.column_config.NumberColumn("cold starts", width="small"),
                        "root_service": "service", "root_name": st.column_config.Column("entry", width="medium"),
                        "span_count": st.column_config.NumberColumn("spans", width="small"),
                        "services": st.column_config.Column("services", width="medium"), "trace_id": "trace id"},
                key=key, on_select=picked, selection_mode="single-row", height=min(38 + 35 * len(found), 420))
    if not trace_id:
        st.caption("Select a row to see the trace's flow.")
