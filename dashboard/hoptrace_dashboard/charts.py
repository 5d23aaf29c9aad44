"""The charts, as Altair specifications (Vega-Lite, rendered by Streamlit; no JavaScript of ours).

Times on the x axis are wall-clock values in the reader's chosen zone (see `Clock`), so a
chart and the tables next to it always agree.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from hoptrace_dashboard.display import Clock
from hoptrace_dashboard.flow import COMPENSATION, FAILED_STEP

INIT = "cold-start init"
WAIT = "waiting in queue"
DLQ = "dead-letter queue"
SPECIAL_COLORS = {INIT: "#f28e2b", WAIT: "#cfcfcf", FAILED_STEP: "#d62728", COMPENSATION: "#2ca02c",
                  DLQ: "#d62728"}
SERVICE_COLORS = ["#4c78a8", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b", "#ff9da6", "#79706e",
                  "#bab0ac", "#439894"]
ERROR_COLOR = "#d62728"
FUNCTION_COLORS = alt.Scale(scheme="tableau10")  # distinct hues; Streamlit's default palette repeats near-greens


def series(frame: pd.DataFrame, field: str, title: str, clock: Clock, *, percent: bool = False,
           unit: str = "") -> alt.Chart:
    """One line per function over time buckets (`bucket_start_ns`); durations on a log-like scale, where a
    timeout next to millisecond calls would otherwise flatten every other line."""
    data = frame.assign(time=clock.naive_column(frame["bucket_start_ns"]))[["time", "function", field]]
    axis = alt.Axis(format="%" if percent else "~s", title=f"{title} ({unit})" if unit else title)
    scale = alt.Scale(type="symlog") if unit == "ms" else alt.Scale()
    # Streamlit fits the whole chart, legend included, into its height: the legend goes beside the plot.
    return alt.Chart(data, height=240).mark_line(point=True).encode(
        # An explicit 24-hour format: Vega's default labels hours as "05 PM" and minutes as "05:09" (12-hour,
        # no AM/PM), which under "time (UTC)" reads as 05:09 for 17:09.
        x=alt.X("time:T", title=f"time ({clock.name})", axis=alt.Axis(format="%H:%M", labelOverlap=True)),
        y=alt.Y(f"{field}:Q", axis=axis, scale=scale),
        color=alt.Color("function:N", scale=FUNCTION_COLORS, legend=alt.Legend(orient="right", title=None)),
        tooltip=["function:N", alt.Tooltip("time:T", format="%H:%M:%S"),
                 alt.Tooltip(f"{field}:Q", format=".1%" if percent else ",.1f")],
    )


def waterfall(segments: pd.DataFrame, services: list[str]) -> alt.Chart:
    """The flow's Gantt chart: one row per span in tree order, init and queue waits as segments of their own."""
    special = [INIT, WAIT] + [name for name in (FAILED_STEP, COMPENSATION, DLQ) if name in set(segments["segment"])]
    domain = [*services, *special]
    colors = [SERVICE_COLORS[i % len(SERVICE_COLORS)] for i in range(len(services))] + [SPECIAL_COLORS[name]
                                                                                        for name in special]
    order = list(dict.fromkeys(segments.sort_values("row")["label"]))
    pick = alt.selection_point(name="span", fields=["span_id"], on="click")
    error = alt.datum.status == "error"
    # The height holds the axis and the legend too (Streamlit fits the chart into it).
    return alt.Chart(segments, height=90 + 24 * len(order)).mark_bar(cornerRadius=2, height=14).encode(
        x=alt.X("start_ms:Q", title="ms since the request started"),
        x2="end_ms:Q",
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=420, labelFontSize=12,
                                                                 labelOverlap=False)),
        color=alt.Color("segment:N", scale=alt.Scale(domain=domain, range=colors),
                        legend=alt.Legend(title=None, orient="top")),
        stroke=alt.condition(error, alt.value(ERROR_COLOR), alt.value(None)),
        strokeWidth=alt.condition(error, alt.value(3), alt.value(0)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)),
        tooltip=["label:N", "segment:N", "hop:N", alt.Tooltip("duration_ms:Q", title="ms", format=",.2f"),
                 "status:N", "detail:N"],
    ).add_params(pick)


def histogram(frame: pd.DataFrame, field: str, title: str) -> alt.Chart:
    return alt.Chart(frame, height=240).mark_bar().encode(
        x=alt.X(f"{field}:Q", bin=alt.Bin(maxbins=30), title=title),
        y=alt.Y("count():Q", title="cold starts"),
        color=alt.Color("function:N", scale=FUNCTION_COLORS, legend=alt.Legend(orient="right", title=None)),
        tooltip=["function:N", "count():Q"],
    )


def cold_vs_warm(frame: pd.DataFrame) -> alt.Chart:
    """p50 (bar) and p95 (tick) per function, cold next to warm: each function on its own linear scale,
    so a 2 s cold start and a 20 ms warm call of one function are both read off plain milliseconds."""
    base = alt.Chart(frame).encode(
        y=alt.Y("start:N", title=None),
        color=alt.Color("start:N", scale=alt.Scale(domain=["cold", "warm"], range=[SPECIAL_COLORS[INIT], "#4c78a8"]),
                        legend=None))
    bars = base.mark_bar().encode(x=alt.X("p50_ms:Q", title="duration (ms): bar p50, tick p95"),
                                  tooltip=["function:N", "start:N", "invocations:Q",
                                           alt.Tooltip("p50_ms:Q", format=",.1f"),
                                           alt.Tooltip("p95_ms:Q", format=",.1f")])
    ticks = base.mark_tick(color="black", thickness=2, size=18).encode(x="p95_ms:Q")
    return alt.layer(bars, ticks).facet(row=alt.Row("function:N", title=None, header=alt.Header(
        labelAngle=0, labelAlign="left"))).resolve_scale(x="independent")
