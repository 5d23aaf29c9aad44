"""`/_stcore/health` (and every HTTP route) answers only the Hosts the dashboard allows: no DNS-rebinding probe."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from hoptrace_collector.store import open_store
from hoptrace_dashboard.server import start_dashboard

pytestmark = pytest.mark.e2e


def _status(port: int, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/_stcore/health", headers={"Host": host})
    status = connection.getresponse().status
    connection.close()
    return status


def test_health_answers_only_allowed_hosts(tmp_path: Path) -> None:
    # GIVEN a dashboard listening on loopback (allowed Hosts: localhost, 127.0.0.1)
    open_store(f"sqlite:///{tmp_path / 'spans.db'}").close()
    dashboard = start_dashboard(f"sqlite:///{tmp_path / 'spans.db'}", port=0)
    try:
        port = int(dashboard.url.rsplit(":", 1)[1].strip("/"))
        # THEN its own names are answered, and a foreign Host (a rebinding page's domain) is refused
        assert _status(port, f"127.0.0.1:{port}") == 200 and _status(port, f"localhost:{port}") == 200
        for foreign in ("evil.example.com", f"attacker.test:{port}", "127.0.0.1.nip.io"):
            assert _status(port, foreign) == 403, foreign
    finally:
        dashboard.stop()
