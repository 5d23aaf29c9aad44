"""`hoptrace dashboard`: which store it opens, and the security defaults it refuses to drop."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoptrace_cli import dashboard as command
from hoptrace_cli.main import main
from hoptrace_dashboard import server
from tests.dashboard.conftest import ShopStore


def test_listening_beyond_this_machine_needs_a_token(shop_store: ShopStore, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOPTRACE_DASHBOARD_TOKEN", raising=False)
    assert main(["dashboard", "--store", shop_store.url, "--host", "0.0.0.0"]) == 2
    assert "--token" in capsys.readouterr().err
    with pytest.raises(server.DashboardError, match="token"):
        server.start_dashboard(shop_store.url, host="0.0.0.0")


def test_a_missing_store_file_is_reported_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope" / "spans.db"
    assert main(["dashboard", "--store", f"sqlite:///{missing}"]) == 2
    assert "no store file" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_default_store_is_the_newest_demo_run(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(command, "latest_store_url", lambda: "sqlite:////runs/1/spans.db")
    assert command.resolve_store(None) == ("sqlite:////runs/1/spans.db", None)
    monkeypatch.setattr(command, "latest_store_url", lambda: None)
    assert main(["dashboard"]) == 2
    assert "hoptrace demo" in capsys.readouterr().err


def test_a_plain_path_becomes_a_sqlite_url(shop_store: ShopStore) -> None:
    url, problem = command.resolve_store(str(shop_store.path))
    assert problem is None and url == f"sqlite:///{shop_store.path.resolve()}"


def test_server_command_keeps_local_defaults_tight() -> None:
    local = server.command("127.0.0.1", 8501)
    assert local[local.index("--server.address") + 1] == "127.0.0.1"
    assert [local[i + 1] for i, a in enumerate(local) if a == "--server.allowedHosts"] == ["localhost", "127.0.0.1"]
    assert local[local.index("--client.showErrorDetails") + 1] == "full"
    assert local[local.index("--browser.gatherUsageStats") + 1] == "false"
    exposed = server.command("0.0.0.0", 8501)
    assert "--server.allowedHosts" not in exposed
    assert exposed[exposed.index("--client.showErrorDetails") + 1] == "type"
