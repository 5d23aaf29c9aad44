"""What every page shares: the store, the time range and the reader's clock, chosen in the sidebar.

The range ends "now" unless the URL pins its end (`until`). When the store has nothing in
the last hour (a demo that ran yesterday), the range ends at the newest data instead, and
the sidebar says so: an empty chart would hide everything the store could show. "Now" is
rounded to the cache lifetime so that every rerun within it asks the same (cached) query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import streamlit as st

from hoptrace_dashboard import data, params, queries
from hoptrace_dashboard.display import Clock
from hoptrace_dashboard.settings import CACHE_TTL_S

NS = 1_000_000_000
PRESETS = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}
PRESET_LABELS = {"15m": "last 15 minutes", "1h": "last hour", "6h": "last 6 hours", "24h": "last 24 hours",
                 "7d": "last 7 days", "30d": "last 30 days"}
DEFAULT_PRESET = "1h"
BUCKETS_S = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400)
MAX_BUCKETS = 90
_CONTEXT_KEY = "hoptrace_context"


@dataclass(frozen=True)
class Context:
    store_url: str
    since_ns: int
    until_ns: int
    preset: str
    anchor: str  # "now" | "data" (no data in the range ending now) | "pinned" (until= in the URL)
    clock: Clock

    @property
    def bucket_s(self) -> int:
        """The chart resolution: the finest bucket that keeps a range under MAX_BUCKETS points."""
        span_s = (self.until_ns - self.since_ns) / NS
        return next((b for b in BUCKETS_S if span_s / b <= MAX_BUCKETS), BUCKETS_S[-1])

    def common_params(self) -> dict[str, str]:
        """The parameters every link between pages carries, so the reader keeps their range and zone."""
        out = {} if self.preset == DEFAULT_PRESET else {"range": self.preset}
        if self.anchor == "pinned":
            out["until"] = iso(self.until_ns)
        if params.get("tz") == "utc":
            out["tz"] = "utc"
        return out

    def range_label(self) -> str:
        return f"{self.clock.label(self.since_ns, seconds=False)} → {self.clock.label(self.until_ns, seconds=False)}"


def iso(ns: int) -> str:
    return datetime.fromtimestamp(ns // NS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_until(text: str | None) -> int | None:
    """`until=` as an ISO time (`2026-11-25T08:00:00Z`) or epoch seconds; None when absent or unreadable."""
    if not text:
        return None
    try:
        return int(float(text) * NS)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * NS


def _round_up(ns: int) -> int:
    step = CACHE_TTL_S * NS
    return -(-ns // step) * step


def build(store_url: str) -> Context:
    """Read the range and zone from the URL, draw the sidebar controls, and remember the result for the page."""
    params.restore_sticky()
    sidebar = st.sidebar
    preset = params.select("Time range", list(PRESETS), "range", DEFAULT_PRESET, where=sidebar,
                           format_func=PRESET_LABELS.__getitem__)
    utc = params.toggle("Show times in UTC", "tz", on="utc", where=sidebar,
                        help="Off: your browser's time zone. The choice is kept in the page URL.")
    clock = Clock.of(st.context.timezone, utc)
    length = PRESETS[preset] * NS
    pinned = parse_until(params.get("until"))
    if pinned is not None:
        until, anchor = pinned, "pinned"
    else:
        until, anchor = _round_up(time.time_ns()), "now"
        newest = data.ask(store_url, queries.newest_ns)
        if newest is not None and newest < until - length:
            until, anchor = _round_up(newest), "data"
    context = Context(store_url, until - length, until, preset, anchor, clock)
    _describe(context, sidebar)
    st.session_state[_CONTEXT_KEY] = context
    return context


def _describe(context: Context, sidebar: st.delta_generator.DeltaGenerator) -> None:
    sidebar.caption(context.range_label())
    if context.anchor == "data":
        sidebar.caption("Nothing arrived in this range up to now, so it ends at the newest data in the store.")
    if context.anchor == "pinned" and sidebar.button("Back to now"):
        params.put("until", None)
        st.rerun()
    shared = {**context.common_params(), "until": iso(context.until_ns)}
    base = (st.context.url or "").split("?", 1)[0]
    sidebar.caption("Link to this exact time range:")
    sidebar.code(f"{base}?{urlencode({**dict(st.query_params), **shared})}", language=None, wrap_lines=True)


def current() -> Context:
    """The context `app.py` built for this run (pages call this instead of redrawing the sidebar)."""
    context = st.session_state.get(_CONTEXT_KEY)
    if not isinstance(context, Context):
        raise RuntimeError("hoptrace_dashboard pages run inside app.py (streamlit run hoptrace_dashboard/app.py)")
    return context
