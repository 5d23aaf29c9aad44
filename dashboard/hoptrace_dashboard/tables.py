"""Tables and lists of traces as every page shows them: times in the reader's zone, units on durations.

Tables render cell values as text (never as Markdown or HTML), which is why user-supplied
names and attributes are shown in them rather than in prose.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from hoptrace_dashboard import nav
from hoptrace_dashboard.context import Context
from hoptrace_dashboard.display import duration


def ms(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="%.1f ms")


def rate(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="percent")


def when(label: str, context: Context) -> Any:
    return st.column_config.DatetimeColumn(label, format=f"YYYY-MM-DD HH:mm:ss [{context.clock.name}]")


def with_times(frame: pd.DataFrame, context: Context, **columns: str) -> pd.DataFrame:
    """Replace epoch-ns columns (`time="start_ns"`) by datetimes in the reader's zone."""
    out = frame.copy()
    for new, old in columns.items():
        out[new] = context.clock.column(out[old]) if not out.empty else pd.Series(dtype="datetime64[ns, UTC]")
    return out.drop(columns=list(columns.values()))


def show(frame: pd.DataFrame, columns: dict[str, Any], *, where: Any = st, height: int | str = "auto",
         key: str | None = None, **kwargs: Any) -> Any:
    """A read-only table of exactly `columns` (name -> column config or a plain title)."""
    config = {name: (st.column_config.Column(spec) if isinstance(spec, str) else spec)
              for name, spec in columns.items()}
    return where.dataframe(frame, column_order=list(columns), column_config=config, hide_index=True,
                           height=height, key=key, **kwargs)


def trace_label(row: pd.Series, context: Context) -> str:
    start = int(row["start_ns"])
    one_day = context.until_ns - context.since_ns <= 86_400 * 10**9
    parts = [duration(row["duration_ms"]), f"{row['root_service']}: {row['root_name']}",
             context.clock.time(start) if one_day else context.clock.label(start, seconds=False)]
    if row["error_count"]:
        parts.append(f"{row['error_count']} error{'s' if row['error_count'] > 1 else ''}")
    if row["cold_starts"]:
        parts.append("cold start")
    return " · ".join(parts)


def trace_links(frame: pd.DataFrame, context: Context, *, where: Any = st, empty: str = "None in this range.",
                icon: str = ":material/arrow_forward:") -> None:
    """One link per trace (from `queries.trace_list` and friends) to its flow."""
    if frame.empty:
        where.caption(empty)
    for _, row in frame.iterrows():
        nav.trace_link(context, row["trace_id"], trace_label(row, context), where=where, icon=icon)
