"""Filters live in the URL (`st.query_params`), so any view can be pasted into an incident channel.

The URL is the one source of truth: each widget is created from the query parameter's
current value and writes it back when changed. Its key carries that value, so when a link,
a pasted URL or the back button changes the parameter, a fresh widget shows it (a widget
keeping its own state would silently overwrite the URL). Parameters in `STICKY` (time range,
time zone) also survive the sidebar's page navigation, which starts pages with a bare URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

STICKY = ("range", "until", "tz")
_STICKY_KEY = "hoptrace_sticky_params"


def get(name: str, default: str | None = None) -> str | None:
    value = st.query_params.get(name)
    return value if value not in (None, "") else default


def put(name: str, value: str | None, default: str | None = None) -> None:
    """Set (or, at its default, remove) one parameter."""
    if value in (None, "") or value == default:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = str(value)
    if name in STICKY:
        st.session_state.setdefault(_STICKY_KEY, {})[name] = None if value == default else value


def restore_sticky() -> None:
    """Put back the time range and zone after the sidebar navigation dropped them from the URL."""
    remembered: dict[str, Any] = st.session_state.setdefault(_STICKY_KEY, {})
    for name in STICKY:
        if name in st.query_params:
            remembered[name] = st.query_params[name]
        elif remembered.get(name):
            st.query_params[name] = remembered[name]


def _changed(name: str, key: str, default: str | None, encode: Callable[[Any], str | None]) -> None:
    put(name, encode(st.session_state[key]), default)


def select(label: str, options: Sequence[str], name: str, default: str, *, where: Any = st,
           format_func: Callable[[str], str] = str, help: str | None = None) -> str:
    current = get(name, default)
    if current is None or current not in options:
        current = default
    key = f"qp.{name}.{current}"
    where.selectbox(label, list(options), index=list(options).index(current), key=key, format_func=format_func,
                    on_change=_changed, args=(name, key, default, str), help=help)
    return current


def text(label: str, name: str, *, where: Any = st, placeholder: str = "", help: str | None = None) -> str | None:
    current = get(name)
    key = f"qp.{name}.{current or ''}"
    where.text_input(label, value=current or "", key=key, placeholder=placeholder, help=help, on_change=_changed,
                     args=(name, key, None, lambda v: v.strip() or None))
    return current


def number(label: str, name: str, *, where: Any = st, help: str | None = None) -> float | None:
    raw = get(name)
    try:
        current = max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        current = None
    key = f"qp.{name}.{current}"
    where.number_input(label, value=current, min_value=0.0, step=100.0, key=key, help=help, placeholder="any",
                       on_change=_changed, args=(name, key, None, lambda v: None if v is None else f"{v:g}"))
    return current


def toggle(label: str, name: str, *, on: str = "1", where: Any = st, help: str | None = None) -> bool:
    """A switch stored as `name=<on>` when set, absent when not."""
    current = get(name) == on
    key = f"qp.{name}.{current}"
    where.toggle(label, value=current, key=key, help=help, on_change=_changed,
                 args=(name, key, None, lambda v: on if v else None))
    return current
