"""Alerts: the one module the alerts feature fills in (rules, their state, history).

The dashboard asks this module two things: what is firing now (shown on the Overview) and
what the Alerts page shows. Until the alert evaluator exists, nothing fires and the page
explains what it will hold; replacing `firing` and `render_page` is all the page needs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hoptrace_dashboard.context import Context

FIRING_COLUMNS = ["rule", "function", "since_ns", "value", "threshold", "trace_id"]


def available() -> bool:
    """False until alert rules exist: the Overview then says so instead of showing an empty list."""
    return False


def firing(context: Context) -> pd.DataFrame:
    """Alerts firing at the end of the context's range, one row each (FIRING_COLUMNS)."""
    return pd.DataFrame(columns=FIRING_COLUMNS)


def render_page(context: Context) -> None:
    st.title("Alerts")
    st.info("Alert rules are not part of this build yet. This page will list them, their state and their history.")
    st.markdown(
        "What will be here:\n\n"
        "- **Rules** over what the other pages already show: error rate, p95/p99 duration and cold-start rate per "
        "function; messages arriving in a dead-letter queue; timeouts and out-of-memory deaths.\n"
        "- **State** of each rule now (ok, firing, no data) with the value that decided it and a link to the "
        "traces behind it.\n"
        "- **History**: when each rule fired and resolved, within the time range chosen in the sidebar.\n\n"
        "The rules will be evaluated by a scheduled function against the same store this dashboard reads, "
        "and firing alerts will also appear at the top of the Overview."
    )
