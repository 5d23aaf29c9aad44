"""The rules file: defaults for every function, overrides, the environment, and errors that name rule and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hoptrace_alerts.config import AlertConfig, ConfigError, default_toml, load
from hoptrace_alerts.rules import RULES


@pytest.mark.parametrize(("toml", "message"), [
    ("[rules.error_spike]\nmin_invocations = -3",
     "rules.error_spike.min_invocations: must be a positive integer, got -3"),
    ("[rules.error_spike]\nfactor = 0.5",
     "rules.error_spike.factor: must be a number of at least 1 (how many times the baseline), got 0.5"),
    ("[rules.cold_start_spike]\nthreshold = 1.5", "rules.cold_start_spike.threshold: must be a share between 0 and 1"),
    ("[rules.latency_regression]\npercentile = \"p90\"",
     "rules.latency_regression.percentile: must be one of 'p50', 'p95', 'p99', got 'p90'"),
    ("[rules.platform_deaths]\noutcomes = [\"timeout\", \"meltdown\"]", "rules.platform_deaths.outcomes: must be"),
    ("[rules.silent_function]\nwindow_s = 60", "rules.silent_function.window_s: unknown field; "
     "[rules.silent_function] takes enabled, cooldown_s, silent_for_s, lookback_s, min_baseline_invocations"),
    ("[rules.error_spikes]\nfactor = 2", "rules.error_spikes: unknown rule; the rules are cold_start_spike, "),
    ("[rules.dlq_arrivals]\nenabled = \"yes\"", "rules.dlq_arrivals.enabled: must be true or false, got 'yes'"),
    ("[defaults]\nwindow_s = 0", "defaults.window_s: must be a positive number of seconds, got 0"),
    ("[notify]\nwebhook_url = \"hooks.slack.com/x\"", "notify.webhook_url: must be an http:// or https:// URL"),
    ('[overrides."pay*".error_spike]\nmin_invocations = 0',
     'overrides."pay*".error_spike.min_invocations: must be a positive integer, got 0'),
    ('[overrides."pay*"]\nerrors = 1', 'overrides."pay*".errors: unknown rule'),
    ("colour = \"blue\"", "colour: unknown field; the top level takes dashboard_url, lag_s"),
    ("[rules.error_spike\nfactor = 2", "not valid TOML"),
])
def test_an_invalid_rule_is_rejected_naming_the_rule_and_the_field(toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(toml, environ={})
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load("[rules.error_spike]\nmin_invocations = -3\nfactor = 0\n[rules.dlq_arrivals]\nmin_messages = 0\n",
             environ={})
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "rules.error_spike.min_invocations", "rules.error_spike.factor", "rules.dlq_arrivals.min_messages"]


def test_defaults_apply_to_every_function_and_every_rule() -> None:
    config = load(None, environ={})
    assert config == AlertConfig()
    for rule in RULES:
        params = config.params_for(rule, "any-function-at-all")
        assert params is not None and params["enabled"] is True
    assert config.params_for("error_spike", "f")["window_s"] == 300  # type: ignore[index]


def test_the_defaults_table_reaches_only_rules_that_take_the_field() -> None:
    config = load("[defaults]\nwindow_s = 120\ncooldown_s = 60\n", environ={})
    assert config.rules["error_spike"]["window_s"] == 120
    assert config.rules["silent_function"]["cooldown_s"] == 60
    assert "window_s" not in config.rules["silent_function"]
    config = load("[defaults]\nwindow_s = 120\n[rules.error_spike]\nwindow_s = 30\n", environ={})
    assert (config.rules["error_spike"]["window_s"], config.rules["cold_start_spike"]["window_s"]) == (30, 120)


def test_overrides_exact_name_wins_over_glob_whatever_the_order() -> None:
    config = load('[overrides."payments"]\nenabled = true\n'
                  '[overrides."payments".error_spike]\nmin_invocations = 5\n'
                  '[overrides."pay*"]\nenabled = false\n'
                  '[overrides."pay*".error_spike]\nmin_invocations = 50\n', environ={})
    assert config.params_for("error_spike", "payments")["min_invocations"] == 5  # type: ignore[index]
    assert config.params_for("error_spike", "payroll") is None
    assert config.params_for("error_spike", "orders")["min_invocations"] == 20  # type: ignore[index]


def test_the_environment_wires_channels_and_the_dashboard() -> None:
    config = load("[notify]\nwebhook_url = \"https://from-file\"\n", environ={
        "HOPTRACE_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
        "HOPTRACE_ALERT_WEBHOOK_URL": "https://hooks.example/x", "HOPTRACE_DASHBOARD_URL": "https://dash.example"})
    assert config.notify["sns_topic_arn"].endswith(":alerts")
    assert config.notify["webhook_url"] == "https://hooks.example/x"
    assert config.dashboard_url == "https://dash.example"
    with pytest.raises(ConfigError, match="env HOPTRACE_ALERT_WEBHOOK_URL: must be an http"):
        load(None, environ={"HOPTRACE_ALERT_WEBHOOK_URL": "nope"})


def test_rules_come_from_a_file_or_inline_text_in_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[rules.error_spike]\nfactor = 4\n")
    assert load(None, environ={"HOPTRACE_ALERT_RULES": str(path)}).rules["error_spike"]["factor"] == 4
    inline = load(None, environ={"HOPTRACE_ALERT_RULES": "[rules.error_spike]\nfactor = 5"})
    assert inline.rules["error_spike"]["factor"] == 5 and "inline" in inline.source
    with pytest.raises(ConfigError, match="cannot read the rules file"):
        load(tmp_path / "missing.toml", environ={})


def test_the_shipped_defaults_file_is_valid_toml_and_means_the_defaults() -> None:
    text = default_toml()
    assert load(text, environ={}).rules == AlertConfig().rules
    document = tomllib.loads(text)
    assert set(document["rules"]) == set(RULES)
