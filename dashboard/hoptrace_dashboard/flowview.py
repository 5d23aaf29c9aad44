"""One trace's flow on the Traces page: the journey across services, the waterfall, errors, a span's details.

Its URL (`/traces?trace=<id>&span=<id>`) is what gets pasted into an incident channel, so
everything shown depends on the URL only. Span names, attributes and stack traces come from
the traced code: they are shown in tables and code blocks, never as Markdown.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from hoptrace_dashboard import charts, data, flow, logview, nav, params, queries, tables
from hoptrace_dashboard.context import Context
from hoptrace_dashboard.display import duration, md
from hoptrace_dashboard.tracelogs import DlqEnd, TraceLogs

JOINED_SHOWN = 5  # trace links listed before the rest fold into an expander


def render(ctx: Context, trace_id: str) -> None:
    spans = data.ask(ctx.store_url, queries.trace_spans, trace_id=trace_id)
    rebuilt = flow.build(spans)
    if rebuilt is None:
        st.warning("No trace with this id in the store (it may be older than the store's retention).")
        st.code(trace_id, language=None)
        return
    st.subheader("Flow of trace")
    st.code(trace_id, language=None)
    logs = data.ask(ctx.store_url, queries.trace_logs, trace_id=trace_id)
    ends = data.ask(ctx.store_url, queries.trace_dlq_ends, trace_id=trace_id)
    _summary(ctx, rebuilt)
    _journey(rebuilt, ends)
    _linked(ctx, rebuilt)
    selected = _waterfall(rebuilt, ends)
    _errors(rebuilt, logs)
    logview.timeline(ctx, rebuilt, logs, ends)
    _details(ctx, rebuilt, selected, logs)


def _summary(ctx: Context, rebuilt: flow.Flow) -> None:
    cols = st.columns(5)
    cols[0].metric("Started", ctx.clock.time(rebuilt.start_ns), help=ctx.clock.label(rebuilt.start_ns))
    cols[1].metric("End to end", duration(rebuilt.duration_ms))
    cols[2].metric("Services", len(rebuilt.services), help=md(", ".join(rebuilt.services)))
    cols[3].metric("Spans / errors", f"{len(rebuilt.rows)} / {len(rebuilt.errors)}")
    init = rebuilt.cold_start_ms
    cols[4].metric("Cold-start init", duration(init) if init else "none",
                   f"{100 * init / rebuilt.duration_ms:.0f}% of the request" if init and rebuilt.duration_ms else None,
                   delta_color="off")


def _journey(rebuilt: flow.Flow, ends: list[DlqEnd]) -> None:
    st.markdown("**Hops** — where the request went, how, and how long it waited")
    hops = logview.with_dlq_hops(rebuilt, ends)
    shown = hops.assign(wait=[duration(w) if pd.notna(w) else "" for w in hops["wait_ms"]])
    tables.show(shown, {"at_ms": tables.ms("at"), "from": "from", "to": "to", "hop": "hop", "via": "via",
                        "wait": "queue wait", "status": "status"}, key="hops")


def _linked(ctx: Context, rebuilt: flow.Flow) -> None:
    """One link per joined trace (a trace several spans link to is named once); a long list folds away below
    the first few, so the waterfall and the logs stay in view."""
    if rebuilt.links.empty:
        return
    joined = rebuilt.links.groupby(["trace_id", "relation"], as_index=False, sort=False).agg(
        via=("from_name", lambda names: ", ".join(dict.fromkeys(names))), spans=("from_span", "nunique"))
    st.markdown(f"**Joined traces** ({len(joined)}) — batches that carried this request, or requests carried by "
                "this batch")

    _folded_links(ctx, [(link["trace_id"], f"{link['relation']}: trace {link['trace_id']} (via {link['via']}"
                                          f"{f', {link.spans} spans' if link['spans'] > 1 else ''})")
                        for _, link in joined.iterrows()], "joined traces")


def _folded_links(ctx: Context, links: list[tuple[str, str]], what: str) -> None:
    """(trace id, label) links, the first JOINED_SHOWN in view and the rest in one expander."""
    for trace_id, label in links[:JOINED_SHOWN]:
        nav.trace_link(ctx, trace_id, label, icon=":material/link:")
    if len(links) > JOINED_SHOWN:
        folded = st.expander(f"{len(links) - JOINED_SHOWN} more {what}")
        for trace_id, label in links[JOINED_SHOWN:]:
            nav.trace_link(ctx, trace_id, label, where=folded, icon=":material/link:")


def _waterfall(rebuilt: flow.Flow, ends: list[DlqEnd]) -> str:
    """Draw the Gantt chart and return the selected span (clicked, chosen below, or the first error)."""
    st.markdown("**Waterfall** — click a bar to see its span below")
    key = f"waterfall.{rebuilt.trace_id}"

    def clicked() -> None:
        picked = st.session_state[key].selection.get("span") or []
        if picked and picked[0].get("span_id"):
            params.put("span", picked[0]["span_id"])

    st.altair_chart(charts.waterfall(logview.with_dlq_segments(rebuilt, ends), rebuilt.services), width="stretch",
                    key=key,
                    on_select=clicked, selection_mode="span")
    labels = dict(zip(rebuilt.rows["span_id"], rebuilt.rows["label"], strict=True))
    first_error = rebuilt.errors[0][0].span_id if rebuilt.errors else rebuilt.rows["span_id"].iloc[0]
    return params.select("Span", list(labels), "span", first_error, format_func=lambda s: labels[s].strip())


def _errors(rebuilt: flow.Flow, logs: TraceLogs) -> None:
    if not rebuilt.errors:
        return
    st.markdown(f"**Errors** ({len(rebuilt.errors)})")
    for span, error_type, message, stack in rebuilt.errors:
        title = md(f"{span.function} · {span.name} · {error_type or 'error'}")
        with st.expander(title, expanded=len(rebuilt.errors) < 4, icon=":material/error:"):
            st.text(f"{error_type}: {message}" if error_type else message)
            if stack:
                st.code(stack, language="python")
            logview.causes(logs, span)


def _details(ctx: Context, rebuilt: flow.Flow, span_id: str, logs: TraceLogs) -> None:
    span = rebuilt.spans.get(span_id)
    if span is None:
        return
    st.markdown("**Selected span**")
    facts = pd.DataFrame([
        ["name", span.name], ["service / function", f"{span.service} / {span.function}"], ["kind", span.kind],
        ["started", ctx.clock.label(span.start_ns)], ["duration", duration((span.end_ns - span.start_ns) / 1e6)],
        ["status", f"{span.status} {span.status_message}".strip()], ["span id", span.span_id],
        ["parent id", span.parent_id or "(root)"], ["request id", span.request_id or ""],
        ["cold start", "yes" if span.cold_start else "no"], ["source", span.source],
    ], columns=["field", "value"])
    left, right = st.columns(2)
    tables.show(facts, {"field": "field", "value": "value"}, where=left, key="span_facts")
    attributes = pd.DataFrame([[k, _text(v)] for k, v in sorted(span.attributes.items())],
                              columns=["attribute", "value"])
    tables.show(attributes, {"attribute": "attribute", "value": "value"}, where=right, key="span_attributes")
    if span.events:
        events = pd.DataFrame([[ctx.clock.label(e.get("time")), e.get("name", ""), _text(e.get("attributes", {}))]
                               for e in span.events], columns=["time", "event", "attributes"])
        tables.show(events, {"time": "time", "event": "event", "attributes": "attributes"}, key="span_events")
    _folded_links(ctx, [(link["trace_id"], f"linked: trace {link['trace_id']} span {link['span_id']}")
                        for link in span.links], "links")
    logview.span_logs(ctx, rebuilt, logs, span)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
