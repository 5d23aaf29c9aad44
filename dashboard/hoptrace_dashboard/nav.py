"""The pages, in sidebar order, and the links between them that keep the reader's filters.

Pages have short URL paths (`/traces?trace=…`) so a link pasted into a chat reads well. A
page added later (the alerts issue) only needs its row here and its file in `pages/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from hoptrace_dashboard.context import Context
from hoptrace_dashboard.display import md


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to app.py
    title: str
    icon: str


PAGES = {
    "overview": PageSpec("views/1_overview.py", "Overview", ":material/monitoring:"),
    "traces": PageSpec("views/2_traces.py", "Traces", ":material/account_tree:"),
    "map": PageSpec("views/3_service_map.py", "Service map", ":material/hub:"),
    "cold-starts": PageSpec("views/4_cold_starts.py", "Cold starts", ":material/ac_unit:"),
    "failures": PageSpec("views/5_failures.py", "Failures & DLQ", ":material/report:"),
    "alerts": PageSpec("views/6_alerts.py", "Alerts", ":material/notifications:"),
}


def navigation(hidden: bool = False) -> Any:
    """The current page; `hidden` keeps the menu out of sight (behind the token prompt) while the URL still counts."""
    pages = [st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=name, default=name == "overview")
             for name, spec in PAGES.items()]
    return st.navigation(pages, position="hidden" if hidden else "sidebar")


def link(context: Context, page: str, label: str, *, where: Any = st, icon: str | None = None,
         **query: str | None) -> None:
    """A link to `page` with the reader's range and zone plus `query`; `label` is shown as plain text."""
    params = {**context.common_params(), **{k: v for k, v in query.items() if v is not None}}
    where.page_link(PAGES[page].path, label=md(label), icon=icon, query_params=params)


def trace_link(context: Context, trace_id: str, label: str, *, where: Any = st, icon: str | None = None) -> None:
    link(context, "traces", label, where=where, icon=icon, trace=trace_id)


def page_url(context: Context, page: str, **query: str | None) -> str:
    """A relative URL of `page` with the reader's range and zone plus `query`, for link columns in tables."""
    params = {**context.common_params(), **{k: v for k, v in query.items() if v is not None}}
    return f"./{page}?{urlencode(params)}" if params else f"./{page}"
