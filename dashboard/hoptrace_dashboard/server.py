"""Start and stop the dashboard as a `streamlit run` child process (`hoptrace dashboard`, `hoptrace demo`, tests).

    dashboard = start_dashboard("sqlite:////tmp/spans.db", port=8501)   # returns once it answers
    print(dashboard.url)
    dashboard.stop()

Security defaults: it listens on 127.0.0.1 and accepts only `localhost`/`127.0.0.1` as Host
(a web page cannot reach it by DNS rebinding). Listening anywhere else needs a token, which
every page then asks for; error details shrink to the exception type there. Streamlit's
XSRF protection stays on, its usage statistics and agent API off.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN

APP = Path(__file__).with_name("app.py")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORT = 8501


class DashboardError(RuntimeError):
    """The dashboard could not be started as asked (exposed without a token, port taken, crashed at start)."""


def check_exposure(host: str, token: str | None) -> None:
    if host not in LOCAL_HOSTS and not token:
        raise DashboardError(f"--host {host} would show your traces to anyone who can reach this machine: "
                             "give a --token (or set HOPTRACE_DASHBOARD_TOKEN), which every page will then ask for")


def command(host: str, port: int) -> list[str]:
    """The `streamlit run` command line, with the security defaults above."""
    local = host in LOCAL_HOSTS
    args = [sys.executable, "-m", "hoptrace_dashboard.launch", "run", str(APP),  # streamlit, Host checked on HTTP
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--server.enableXsrfProtection", "true",
            "--server.enableAgentApi", "false", "--client.toolbarMode", "viewer",
            "--client.showErrorDetails", "full" if local else "type", "--theme.base", "light"]
    if local:
        for allowed in ("localhost", "127.0.0.1"):
            args += ["--server.allowedHosts", allowed]
    return args


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host if host != "0.0.0.0" else "127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: SIGTERM the dashboard when the process that started it dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Dashboard:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout`); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_dashboard(store_url: str, port: int = DEFAULT_PORT, host: str = "127.0.0.1", token: str | None = None,
                    timeout: float = 60.0, log: IO[bytes] | None = None) -> Dashboard:
    """Launch `streamlit run` headless on host:port (0: a free port) and return once it answers.

    Its output goes to `log`, else to a temporary file (`Dashboard.log_path`), never to a pipe
    nobody reads. Raises DashboardError, with the end of that output, if it does not come up.
    """
    check_exposure(host, token)
    port = port or free_port(host)
    env = {**os.environ, ENV_STORE: store_url}
    env.pop(ENV_TOKEN, None)
    if token:
        env[ENV_TOKEN] = token
    if log is None:
        handle, name = tempfile.mkstemp(prefix="hoptrace-dashboard-", suffix=".log")
        os.close(handle)
        log = open(name, "wb")  # noqa: SIM115 (the child writes to it for as long as it runs)
    log_name = getattr(log, "name", None)
    log_path = Path(log_name if isinstance(log_name, str) else os.devnull)
    process = subprocess.Popen(command(host, port), env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL,
                               preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    dashboard = Dashboard(process, f"http://{probe_host}:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DashboardError(f"the dashboard exited at start (code {process.returncode}):\n{dashboard.log_tail()}")
        if _healthy(f"http://{probe_host}:{port}/_stcore/health"):
            return dashboard
        time.sleep(0.2)
    dashboard.stop()
    raise DashboardError(f"the dashboard did not answer on {dashboard.url} within {timeout:.0f} s:\n"
                         f"{dashboard.log_tail()}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
