"""Fixtures for the alert tests: a fresh SQLite store, the test rules, and channels that record."""

from __future__ import annotations

import pytest

from hoptrace_alerts import config as alert_config
from hoptrace_alerts.notify.message import Notification

#: Minutes instead of the production defaults' 5-minute windows, so the scenarios stay short.
RULES_TOML = """
[notify]
stdout = false

[defaults]
window_s = 60
baseline_windows = 5
cooldown_s = 120

[rules.error_spike]
min_invocations = 10
[rules.cold_start_spike]
min_invocations = 10
[rules.latency_regression]
min_invocations = 10
[rules.silent_function]
silent_for_s = 120
lookback_s = 300
"""


@pytest.fixture
def rules() -> alert_config.AlertConfig:
    return alert_config.load(RULES_TOML, environ={})


class Recorder:
    """A channel that keeps what it was sent."""

    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# A fresh SQLite store per test, and one moto server per session: the collector tests' own fixtures.
from tests.collector.conftest import aws, moto_endpoint, store  # noqa: E402, F401
