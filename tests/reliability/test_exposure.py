"""The OTLP receiver and the dashboard, started through the real `hoptrace` CLI: who can reach them.

What the kernel says the listening socket is bound to (`/proc/net/tcp`) is checked, not only what
the code asked for. Already covered elsewhere and not repeated here: the receiver's refusals in
process (tests/collector/test_otlp.py: 400/413/415, gzip bombs, token check on the API); the
dashboard CLI refusing `--host 0.0.0.0` without a token and its Streamlit flags
(tests/dashboard/test_cli.py); every page asking for the token (tests/dashboard/test_pages.py).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hoptrace_collector.store import open_store

pytestmark = pytest.mark.e2e

TOKEN = "t0ken-for-the-reliability-suite"
SPAN = {"traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "53995c3f42cd8ad8", "name": "exposed",
        "startTimeUnixNano": "1795593398000000000", "endTimeUnixNano": "1795593398000100000"}
BODY = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [SPAN]}]}]}).encode()


@contextmanager
def cli(*args: str, token_env: dict[str, str] | None = None, ready: str = "http://") -> Iterator[tuple[str, int]]:
    """`hoptrace <args>` running; yields (the URL it printed, the port). Stopped (SIGTERM) afterwards."""
    env = {k: v for k, v in os.environ.items() if k not in ("HOPTRACE_OTLP_TOKEN", "HOPTRACE_DASHBOARD_TOKEN")}
    env.update(token_env or {})
    process = subprocess.Popen([sys.executable, "-m", "hoptrace_cli.main", *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"(http://[\d.]+:(\d+)\S*)", line)
            if match and ready in line:
                yield match.group(1), int(match.group(2))
                return
            if not line and process.poll() is not None:
                raise AssertionError(f"hoptrace {' '.join(args)} exited with {process.returncode}")
        raise AssertionError(f"hoptrace {' '.join(args)} printed no URL in time")
    finally:
        process.terminate()
        process.wait(20)


def bound_to(port: int) -> set[str]:
    """The local addresses listening on `port`, as the kernel reports them (IPv4)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def post_oversized(port: int, size: int) -> int:
    """The status of a POST declaring and sending a `size`-byte body.

    The receiver may answer from the Content-Length alone and close the connection: the client then
    stops sending (broken pipe) and reads the answer that is already there.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", "/v1/traces")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    sent, chunk = 0, b" " * 65536
    try:
        while sent < size:
            connection.send(chunk[:size - sent])
            sent += min(len(chunk), size - sent)
    except (BrokenPipeError, ConnectionResetError):
        pass
    status = connection.getresponse().status
    connection.close()
    return status


def refused(*args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOPTRACE_OTLP_TOKEN", "HOPTRACE_DASHBOARD_TOKEN")}
    done = subprocess.run([sys.executable, "-m", "hoptrace_cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    return done.returncode, done.stderr


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'spans.db'}"
    open_store(url).close()
    return url


def test_otlp_receiver_listens_on_loopback_and_refuses_oversized_bodies(store_url: str) -> None:
    # GIVEN the receiver started with the defaults
    with cli("collector", "serve-otlp", "--store", store_url, "--port", "0") as (url, port):
        # THEN only the loopback address is bound
        assert bound_to(port) == {"127.0.0.1"}
        assert post(url, BODY) == 200
        # AND a body over the default 8 MiB is refused with 413, before it reaches the store
        assert post_oversized(port, 8 * 1024 * 1024 + 1) == 413
        assert post(url, b"x" * 70_000, {"Content-Encoding": "gzip"}) == 400  # garbage gzip: said, not stored
    store = open_store(store_url)
    try:
        assert [s.name for s in store.get_trace(SPAN["traceId"])] == ["exposed"]  # only the accepted request
    finally:
        store.close()


def test_otlp_receiver_off_loopback_needs_a_token_and_checks_it(store_url: str) -> None:
    # WHEN asked to listen on every address without a token THEN it refuses to start, saying why
    code, said = refused("collector", "serve-otlp", "--store", store_url, "--host", "0.0.0.0", "--port", "0")
    assert code == 2 and "without a token" in said
    # AND with the token (from the environment, not the command line) it listens, and checks every request
    with cli("collector", "serve-otlp", "--store", store_url, "--host", "0.0.0.0", "--port", "0",
             token_env={"HOPTRACE_OTLP_TOKEN": TOKEN}) as (_, port):
        assert bound_to(port) == {"0.0.0.0"}
        url = f"http://127.0.0.1:{port}/v1/traces"
        assert post(url, BODY) == 401
        assert post(url, BODY, {"Authorization": "Bearer not-the-token"}) == 401
        assert post(url, BODY, {"Authorization": f"Bearer {TOKEN}"}) == 200


def test_dashboard_listens_on_loopback_and_its_websocket_refuses_other_hosts(store_url: str) -> None:
    with cli("dashboard", "--store", store_url, "--port", "0", ready="open") as (_, port):
        assert bound_to(port) == {"127.0.0.1"}
        # A page on another site that rebinds its DNS name to 127.0.0.1 sends its own Host header:
        # the app's websocket (where every page is rendered) refuses it.
        assert _websocket_handshake(port, f"127.0.0.1:{port}") == 101
        assert _websocket_handshake(port, f"attacker.example:{port}") == 403


def test_dashboard_off_loopback_starts_only_with_a_token(store_url: str) -> None:
    code, said = refused("dashboard", "--store", store_url, "--host", "0.0.0.0", "--port", "0")
    assert code == 2 and "token" in said
    with cli("dashboard", "--store", store_url, "--host", "0.0.0.0", "--port", "0", ready="open",
             token_env={"HOPTRACE_DASHBOARD_TOKEN": TOKEN}) as (_, port):
        assert bound_to(port) == {"0.0.0.0"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10) as response:
            assert response.status == 200  # up; every page then asks for the token (tests/dashboard/test_pages.py)


def _websocket_handshake(port: int, host: str) -> int:
    """The HTTP status of a websocket upgrade to Streamlit's stream endpoint with this Host header."""
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: http://{host}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        status_line = connection.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])
