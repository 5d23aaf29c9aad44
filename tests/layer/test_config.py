"""Settings parsing shared by the layer and the collector, and the boundary between them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hoptrace.envparse import env_bool, env_names, env_number
from hoptrace_collector.config import CollectorConfig


def test_bad_values_fall_back_with_one_warning(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"B": "maybe", "N": "lots", "R": "7", "L": " A, b ,,"}
    assert env_bool(env, "B", True) is True
    assert env_number(env, "N", 2.0, 0.0, 5.0) == 2.0
    assert env_number(env, "R", 2.0, 0.0, 5.0) == 2.0
    assert env_names(env, "L") == frozenset({"a", "b"})
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("hoptrace: ") for line in lines)
    assert "B='maybe' is not a boolean" in lines[0] and "R='7' must be between 0.0 and 5.0" in lines[2]


def test_the_collector_parses_like_the_layer(capsys: pytest.CaptureFixture[str]) -> None:
    config = CollectorConfig.from_env({"HOPTRACE_FORWARD_XRAY": "yes", "HOPTRACE_PART_MAX_AGE_S": "-1"})
    assert config.forward_xray is True and config.part_max_age_s == 900.0
    assert "HOPTRACE_PART_MAX_AGE_S='-1' must be between" in capsys.readouterr().err


def test_the_dlq_watcher_reads_the_carrier_key_without_the_trigger_registry() -> None:
    code = ("import sys, hoptrace_collector.dlq.messages; "
            "print(sorted(m for m in sys.modules if m.startswith('hoptrace.triggers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
