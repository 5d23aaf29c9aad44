"""Alerts: rules, their state and history; the content lives in `hoptrace_dashboard.alerts`."""

from __future__ import annotations

from hoptrace_dashboard import alerts, context

alerts.render_page(context.current())
