"""A client that hangs up before the local API answers costs no traceback on the user's terminal."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from hoptrace_localcloud.apiserver import ApiServer
from hoptrace_localcloud.events.apigateway import HttpRequest, HttpResponse


def test_a_client_hanging_up_before_the_answer_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    answered = threading.Event()

    class Slow(ApiServer):
        def respond(self, request: HttpRequest) -> HttpResponse:
            time.sleep(0.3)  # the client is gone by now: the answer meets a closed socket
            try:
                return HttpResponse(200, [("Content-Type", "text/plain")], b"x" * 1_000_000)
            finally:
                answered.set()

    server = Slow("123456789012")
    server.start()
    try:
        host, port = server.url.removeprefix("http://").split(":")
        client = socket.create_connection((host, int(port)))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        client.close()
        assert answered.wait(10)
        deadline = time.monotonic() + 5
        while threading.active_count() > 2 and time.monotonic() < deadline:  # the request's thread ends
            time.sleep(0.05)
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err, err
