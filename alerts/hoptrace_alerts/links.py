"""Links into the dashboard: the Traces page filtered to what an alert is about, and single traces.

The dashboard keeps its filters in the URL (`hoptrace_dashboard.params`): `/traces` takes
`function`, `status` (error|ok), `cold` (yes|no), `min_ms`, `range` (a preset), `until` (ISO
time, pins the range's end) and `trace` (opens that trace's flow). The evaluator cannot import
the dashboard (it runs in Lambda without streamlit), so the presets are repeated here; a test
checks they match `hoptrace_dashboard.context.PRESETS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from hoptrace_alerts.finding import Finding

NS = 1_000_000_000
PRESETS = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}


def preset_for(seconds: float) -> str:
    """The shortest dashboard range that shows the whole window."""
    return next((name for name, length in PRESETS.items() if length >= seconds), "30d")


def iso(time_ns: int) -> str:
    """The `until` parameter, rounded up to the second so the window's last spans stay inside it."""
    return datetime.fromtimestamp(-(-time_ns // NS), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def traces_url(dashboard_url: str, finding: Finding, now_ns: int) -> str:
    """The Traces page showing the finding's window, filtered like the rule, opened on its first example."""
    return f"{dashboard_url.rstrip('/')}/traces?{urlencode(traces_query(finding, now_ns))}"


def traces_query(finding: Finding, now_ns: int) -> dict[str, str]:
    """The Traces page's query parameters for a finding (the dashboard builds its own relative links from them)."""
    query: dict[str, str] = {}
    if finding.function:
        query["function"] = finding.function
    query.update(finding.traces_filter)
    query["range"] = preset_for(finding.window_s)
    query["until"] = iso(now_ns)
    if finding.examples:
        query["trace"] = finding.examples[0]
    return query


def trace_url(dashboard_url: str, trace_id: str) -> str:
    return f"{dashboard_url.rstrip('/')}/traces?{urlencode({'trace': trace_id})}"
