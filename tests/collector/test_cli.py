"""`hoptrace collector …` and `hoptrace bench collector`: wired into the one `hoptrace` command."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hoptrace_cli import bench
from hoptrace_cli.main import main
from hoptrace_collector.store import InvocationRecord, open_store


def test_retention_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / "spans.db"
    now = time.time_ns()
    open_store(str(store_path)).write(invocations=[InvocationRecord("old", "f", now - 3 * 86_400 * 10**9),
                                                   InvocationRecord("new", "f", now)])
    assert main(["collector", "retention", "--older-than-days", "2", "--store", str(store_path)]) == 0
    assert "removed 1 records" in capsys.readouterr().out
    assert [r.request_id for r in open_store(str(store_path)).invocations()] == ["new"]


def test_serve_otlp_refuses_an_open_port_without_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collector", "serve-otlp", "--host", "0.0.0.0", "--port", "0", "--store",
                 str(tmp_path / "s.db")]) == 2
    assert "without a token" in capsys.readouterr().err


def test_bad_store_url_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collector", "retention", "--older-than-days", "1", "--store", "mysql://x"]) == 2
    assert "unknown store scheme" in capsys.readouterr().err


def test_bench_suite_is_registered() -> None:
    import importlib
    import sys

    sys.path.insert(0, str(bench.ROOT))
    module = importlib.import_module(bench.SUITES["collector"])
    assert callable(module.run) and callable(module.markdown)
