"""How values look on every page: durations with units, times in the reader's zone, user text kept as text.

Span names, attributes and filter text come from the traced applications and from whoever
typed the URL, so anything that reaches a Markdown-rendering element goes through `md()`
first; tables and `st.text`/`st.code` show text as it is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

MISSING = "\u2013"  # an en dash: no value

# Every ASCII punctuation mark may be backslash-escaped in CommonMark; these are the ones that
# start Markdown, HTML, LaTeX ($) or Streamlit's :directives[...] and :emoji: shortcodes.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def md(text: object) -> str:
    """`text` escaped so Markdown shows it literally (one line: newlines become spaces)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def duration(ms: float | None) -> str:
    """A duration with its unit, precise where it matters (µs for sub-millisecond work, minutes for timeouts)."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return MISSING
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(ms / 1000, 60)
    return f"{minutes:.0f} min {seconds:.0f} s"


_PERIODS = ((86_400, "day"), (3600, "h"), (60, "min"), (1, "s"))


def period(seconds: int) -> str:
    """A bucket size in words, in the largest unit that divides it: `30 s`, `5 min`, `3 h`, `1 day`."""
    size, unit = next((size, unit) for size, unit in _PERIODS if seconds >= size and seconds % size == 0)
    return f"{seconds // size} {unit}"


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else MISSING


@dataclass(frozen=True)
class Clock:
    """The zone times are shown in: the reader's browser zone, or UTC when they ask for it."""

    zone: tzinfo
    name: str

    @classmethod
    def of(cls, browser_zone: str | None, utc: bool) -> Clock:
        if utc or not browser_zone:
            return cls(UTC, "UTC")
        try:
            return cls(ZoneInfo(browser_zone), browser_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return cls(UTC, "UTC")

    def label(self, ns: int | None, seconds: bool = True) -> str:
        """One point in time, with the zone's abbreviation so a pasted screenshot is unambiguous."""
        if ns is None:
            return MISSING
        moment = datetime.fromtimestamp(ns / 1e9, self.zone)
        return moment.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")

    def time(self, ns: int) -> str:
        """The time of day only, for lists within one day's range."""
        return datetime.fromtimestamp(ns / 1e9, self.zone).strftime("%H:%M:%S %Z")

    def column(self, ns: pd.Series) -> pd.Series:
        """Epoch-nanosecond integers as zone-aware datetimes (tables and charts format them)."""
        return pd.to_datetime(ns, unit="ns", utc=True).dt.tz_convert(self.zone)

    def naive_column(self, ns: pd.Series) -> pd.Series:
        """Wall-clock datetimes without zone: Vega-Lite charts would otherwise reconvert to the browser's zone."""
        return self.column(ns).dt.tz_localize(None)
