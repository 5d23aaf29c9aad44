"""Service map: functions and the topics, queues, buses, tables and APIs between them, as observed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hoptrace_dashboard import context, data, nav, queries, servicemap, tables
from hoptrace_dashboard.display import duration

ctx = context.current()
st.title("Service map")
st.caption("Drawn from the spans of the time range (not from any template): each arrow is a call or a message "
           "that was traced. Red arrows fail 5% of the time or more. Click a function to open its traces. "
           "An arrow from a topic into a queue counts messages (each once, however often it was received); "
           "the queue's arrow to its function counts invocations, each a batch of one or more messages.")
edges = data.ask(ctx.store_url, queries.service_edges, since_ns=ctx.since_ns, until_ns=ctx.until_ns)
if edges.frame.empty:
    st.info("No calls between services were traced in this range.")
    st.stop()
st.graphviz_chart(servicemap.dot(edges.frame, ctx.common_params()), width="stretch")
if not edges.complete:
    st.caption(f"Busy range: drawn from the newest {edges.limit:,} spans of it, shared between the functions.")

st.markdown("**Open the traces of**")
names = sorted(set(edges.frame.loc[edges.frame["source_kind"] == "function", "source_label"])
               | set(edges.frame.loc[edges.frame["target_kind"] == "function", "target_label"]))
cols = st.columns(min(len(names), 4) or 1)
for i, name in enumerate(names):
    nav.link(ctx, "traces", name, where=cols[i % len(cols)], icon=":material/account_tree:", function=name)

st.subheader("Edges")
# A hop with no queue has no queue wait: a blank cell, not "None".
shown = edges.frame.assign(queue_wait=[duration(w) if pd.notna(w) else "" for w in edges.frame["p95_wait_ms"]])
tables.show(shown, {"source_label": "from", "target_label": "to", "hop": "hop", "calls": "count", "unit": "of",
                    "errors": "errors", "error_rate": tables.rate("error rate"), "p95_ms": tables.ms("p95"),
                    "queue_wait": "p95 queue wait"})
