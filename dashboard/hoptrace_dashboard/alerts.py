"""Alerts: the rules, what is firing, what each rule sees now, and every transition in the range.

Everything comes from `hoptrace_alerts.view`, the read API over the alert state the scheduled
evaluator keeps in the same store; this module only lays it out (and caches it like every
query, for `CACHE_TTL_S`). The rules shown are those of the evaluator's last run (kept with it
in the store), so the page shows what is actually evaluated whatever rules file the dashboard's
own process would find; that file (HOPTRACE_ALERT_RULES, else the defaults) is read only
before the first run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from hoptrace_alerts import view
from hoptrace_alerts.config import AlertConfig, ConfigError
from hoptrace_dashboard import data, nav, tables
from hoptrace_dashboard.context import Context
from hoptrace_dashboard.display import MISSING, duration, md
from hoptrace_dashboard.settings import CACHE_TTL_S

FIRING_COLUMNS = ["rule", "function", "since_ns", "value", "threshold", "trace_id"]
_STATE_ORDER = {"firing": 0, "resolved": 1, "ok": 2}


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _last_run(url: str) -> view.Run | None:
    return view.last_run(data.store_for(url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _states(url: str) -> pd.DataFrame:
    return _frame(view.states(data.store_for(url)), view.StateRow)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _history(url: str, since_ns: int, until_ns: int) -> pd.DataFrame:
    return _frame(view.history(data.store_for(url), since_ns=since_ns, until_ns=until_ns, limit=500),
                  view.TransitionRow)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _preview(url: str, until_ns: int) -> pd.DataFrame:
    return _frame(view.preview(data.store_for(url), _rules(url), until_ns), view.StateRow)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _rules(url: str) -> AlertConfig:
    """The rules the evaluator last ran with; before its first run, those this process would use."""
    return view.evaluated_rules(data.store_for(url)) or view.load_rules()


def _frame(rows: list[Any], cls: type) -> pd.DataFrame:
    columns = [f.name for f in dataclasses.fields(cls)]
    return pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=columns)


def available() -> bool:
    """True once the evaluator has run against this store; before that the Overview says there is nothing yet."""
    from hoptrace_dashboard import context

    return _last_run(context.current().store_url) is not None


def firing(context: Context) -> pd.DataFrame:
    """Alerts firing at the end of the context's range, one row each (FIRING_COLUMNS)."""
    states = _states(context.store_url)
    if context.anchor != "pinned":
        rows = states[states["state"] == "firing"]
    else:  # a range in the past: replay the transitions up to its end
        moves = _history(context.store_url, context.until_ns - 30 * 86_400 * 10**9, context.until_ns)
        latest = moves.drop_duplicates(["rule", "subject"])  # newest first
        rows = latest[latest["to_state"] == "firing"].rename(columns={"time_ns": "since_ns"})
    return pd.DataFrame({
        "rule": rows["title"], "function": rows["subject"], "since_ns": rows["since_ns"],
        "value": [_value(c, u) for c, u in zip(rows["current"], rows["unit"], strict=True)],
        "threshold": [_value(t, u) for t, u in zip(rows["threshold"], rows["unit"], strict=True)],
        "trace_id": [e[0] if len(e) else None for e in rows["examples"]]}, columns=FIRING_COLUMNS)


def _value(value: float | None, unit: str) -> str:
    if value is None or pd.isna(value):
        return MISSING
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "ms":
        return duration(value)
    return f"{value:g} {unit}"


def _links(context: Context, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(open=[nav.page_url(context, "traces", **q) if q.get("trace") or q.get("function") else None
                              for q in frame["traces_query"]])


def _show(frame: pd.DataFrame, columns: dict[str, Any], key: str) -> None:
    """Only the shown columns reach the table (the rows also hold dicts and tuples Arrow need not see)."""
    tables.show(frame[list(columns)], columns, key=key)


LINK = st.column_config.LinkColumn("traces", display_text="open →")


def field_text(value: Any) -> str:
    """A rule field as written in the TOML, not as Python prints it (`timeout, oom`, not `('timeout', 'oom')`)."""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(field_text(v) for v in value) or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_page(context: Context) -> None:
    st.title("Alerts")
    try:
        rules = _rules(context.store_url)
    except ConfigError as exc:
        st.error("The alert rules (HOPTRACE_ALERT_RULES) are not valid, so the evaluator stops at them too:")
        st.code(str(exc), language=None, wrap_lines=True)
        return
    run = _last_run(context.store_url)
    if run is None:
        st.info("No alert evaluation is recorded in this store yet. What will be here once the evaluator runs "
                "(the scheduled function `hoptrace_alerts.handler.handler`, or `hoptrace alerts check --notify`): "
                "what is firing, what each rule sees now, and every transition in the chosen range.")
    else:
        st.caption(f"Last evaluation {context.clock.label(run.time_ns)}: {run.evaluated} alerts, {run.firing} "
                   f"firing, {run.duration_ms:.0f} ms.")
        _render_states(context, _previewed_firing(context))
        _render_history(context)
    _render_now(context)
    _render_rules(rules)


def _previewed_firing(context: Context) -> int:
    preview = _preview(context.store_url, context.until_ns)
    return 0 if preview.empty else int((preview["state"] == "firing").sum())


def no_firing_message(previewed_firing: int) -> tuple[str, str]:
    """(kind, text) above an empty list of stored alerts: never "nothing fires" while the rules below fire."""
    if previewed_firing:
        return "warning", (f"The evaluator has recorded no firing alert, but {previewed_firing} rule"
                           f"{'s' if previewed_firing != 1 else ''} would fire on the data now (below): the "
                           "evaluator has not run since, or its notifications are off.")
    return "success", "No alert is firing."


def _render_states(context: Context, previewed_firing: int = 0) -> None:
    states = _states(context.store_url)
    st.subheader("Firing and cooling down")
    if states.empty:
        kind, text = no_firing_message(previewed_firing)
        (st.warning if kind == "warning" else st.success)(text)
        return
    shown = tables.with_times(_links(context, states), context, since="since_ns")
    _show(shown, {"state": "state", "title": "rule", "subject": "function / queue", "since": tables.when(
        "since", context), "summary": "figures (current vs baseline)", "open": LINK}, key="alert-states")
    st.caption("Resolved alerts stay here for their cooldown: a new breach within it is the same incident and "
               "notifies nobody again.")


def _render_history(context: Context) -> None:
    history = _history(context.store_url, context.since_ns, context.until_ns)
    st.subheader("History")
    if history.empty:
        st.caption("No transition in this range.")
        return
    shown = _links(context, history).assign(
        move=[f"{a} → {b}" for a, b in zip(history["from_state"], history["to_state"], strict=True)],
        sent=[(", ".join(f"{k}: {v}" for k, v in d.items()) or "no channel configured") if n else "not notified"
              for d, n in zip(history["delivery"], history["notified"], strict=True)])
    shown = tables.with_times(shown, context, at="time_ns")
    _show(shown, {"at": tables.when("at", context), "move": "transition", "title": "rule",
                  "subject": "function / queue", "summary": "figures", "sent": "notification", "reason": "why",
                  "open": LINK}, key="alert-history")


def _render_now(context: Context) -> None:
    preview = _preview(context.store_url, context.until_ns)
    st.subheader("What each rule sees at the end of the range")
    if preview.empty:
        st.caption("No function in the store to evaluate.")
        return
    preview = preview.assign(order=preview["state"].map(_STATE_ORDER)).sort_values(["order", "rule", "subject"])
    _show(_links(context, preview), {"state": "state", "title": "rule", "subject": "function / queue",
                                     "summary": "figures", "open": LINK}, key="alert-now")
    st.caption("Evaluated here without storing anything (as `hoptrace alerts check` does); the scheduled "
               "evaluator's own results are above.")


def _render_rules(rules: AlertConfig) -> None:
    st.subheader("Rules")
    st.caption(f"As the evaluator uses them, from {md(rules.source)}. Defaults apply to every function; "
               "overrides by exact name or glob.")
    rows = view.rules(rules)
    frame = pd.DataFrame({
        "rule": [r.title for r in rows], "key": [r.rule for r in rows], "per": [r.per for r in rows],
        "enabled": [r.enabled for r in rows],
        "fields": [", ".join(f"{k} = {field_text(v)}" for k, v in r.params.items() if k != "enabled")
                   for r in rows],
        "overrides": [", ".join(r.overrides) for r in rows]})
    _show(frame, {"rule": "rule", "key": "config key", "per": "per", "enabled": "on", "fields": "fields",
                  "overrides": "overridden for"}, key="alert-rules")
    with st.expander("What the fields mean"):
        for row in rows:
            st.markdown(f"**{md(row.title)}** (`rules.{row.rule}`)")
            st.dataframe(pd.DataFrame({"field": list(row.docs), "meaning": list(row.docs.values())}),
                         hide_index=True)
