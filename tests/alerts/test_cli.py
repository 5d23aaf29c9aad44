"""`hoptrace alerts`: check prints the state and exits 1 when firing, 2 when it cannot evaluate; rules; history."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoptrace_alerts.states import open_state_store
from hoptrace_cli.main import main
from hoptrace_collector.store import Store
from tests.alerts.conftest import RULES_TOML
from tests.alerts.traffic import NS, Traffic, minute


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES_TOML)
    return path


@pytest.fixture
def spiky_store(store: Store) -> str:
    traffic = Traffic()
    traffic.steady("payments", range(0, 6))
    traffic.steady("orders", range(0, 7))
    traffic.minute_of("payments", 6, errors=10)
    traffic.write(store)
    return store.url


def check(store_url: str, rules: Path, at: float, *extra: str) -> int:
    return main(["alerts", "check", "--store", store_url, "--rules", str(rules), "--now", str(minute(at) / NS),
                 *extra])


def test_check_exits_1_and_shows_what_fires(spiky_store: str, rules_file: Path, store: Store,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert check(spiky_store, rules_file, 7) == 1
    out = capsys.readouterr().out
    assert "1 firing" in out
    line = next(line for line in out.splitlines() if line.startswith("FIRING"))
    assert "error_spike" in line and "payments" in line and "error rate 50.0%" in line
    assert "orders" not in out  # ok alerts are listed only with --all
    assert open_state_store(store).history() == []  # without --notify nothing is stored


def test_check_exits_0_when_quiet_and_lists_everything_with_all(spiky_store: str, rules_file: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert check(spiky_store, rules_file, 6, "--all") == 0
    out = capsys.readouterr().out
    assert "0 firing" in out and out.count("\nOK ") >= 5


def test_check_with_notify_is_the_evaluator(spiky_store: str, rules_file: Path, store: Store,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rules_file.write_text(rules_file.read_text().replace("stdout = false", "stdout = true"))
    assert check(spiky_store, rules_file, 7, "--notify") == 1
    out = capsys.readouterr().out
    assert "recorded 1 transition(s)" in out and "[FIRING] Error-rate spike on payments" in out
    assert [t.to_state for t in open_state_store(store).history()] == ["firing"]
    assert check(spiky_store, rules_file, 7, "--notify") == 1  # still firing; nothing new recorded or sent
    assert "[FIRING]" not in capsys.readouterr().out


def test_check_exits_2_on_a_wrong_rules_file(spiky_store: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.error_spike]\nmin_invocations = -3\n")
    assert check(spiky_store, bad, 7) == 2
    assert "rules.error_spike.min_invocations: must be a positive integer, got -3" in capsys.readouterr().err


def test_check_exits_2_without_a_store(tmp_path: Path, rules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(f"sqlite:///{tmp_path}/absent.db", rules_file, 7) == 2
    assert "no store file" in capsys.readouterr().err


def test_rules_validates_and_prints(rules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "rules", "--rules", str(rules_file)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "error_spike" in out and "min_invocations=10" in out
    assert main(["alerts", "rules", "--defaults"]) == 0
    assert "[rules.silent_function]" in capsys.readouterr().out


def test_history_lists_transitions(spiky_store: str, rules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check(spiky_store, rules_file, 7, "--notify")
    check(spiky_store, rules_file, 8, "--notify")
    capsys.readouterr()
    assert main(["alerts", "history", "--store", spiky_store, "--since", str(10 * 86_400)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert ["resolved" in lines[0], "firing" in lines[1]] == [True, True]


def test_check_uses_the_rules_the_evaluator_last_ran_with(spiky_store: str, rules_file: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HOPTRACE_ALERT_RULES", raising=False)
    check(spiky_store, rules_file, 7, "--notify")  # the evaluator, with the test's 1-minute windows
    capsys.readouterr()
    # WHEN check runs without --rules, it judges with those rules, not the 5-minute defaults
    assert main(["alerts", "check", "--store", spiky_store, "--now", str(minute(7) / NS)]) == 1
    assert f"({rules_file})" in capsys.readouterr().out
