"""The demo traffic generator's failure burst: poison orders at the chosen second, in steps the local API takes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hoptrace_cli.demo.traffic import TEST_CLIENT_HEADER, TrafficGenerator, TrafficProfile, read_log


@pytest.fixture
def orders_api() -> Iterator[tuple[str, list[float]]]:
    poison_at: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get(TEST_CLIENT_HEADER) == "poison":
                import time

                poison_at.append(time.monotonic())
            body = json.dumps({"order_id": "o-1"}).encode()
            self.send_response(201)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", poison_at
    finally:
        server.shutdown()
        server.server_close()


def test_the_burst_sends_its_poison_orders_at_the_chosen_time(orders_api: tuple[str, list[float]],
                                                              tmp_path: Path) -> None:
    url, poison_at = orders_api
    profile = TrafficProfile(rate=4, burst_every=0, poison_rate=0, bad_request_rate=0, read_rate=0,
                             failure_burst_at=0.5, failure_burst_size=12)
    generator = TrafficGenerator(url, profile, tmp_path / "traffic.jsonl")
    # The run lasts well past the burst: sends not yet started when it ends are dropped, and on a loaded
    # machine a send thread may wait a second or more for a CPU (1.5 s failed beside the suite at load 18).
    generator.run(4, threading.Event())
    sent = read_log(tmp_path / "traffic.jsonl")
    assert sum(s.kind == "poison" for s in sent) == 1 + 12  # the opening tour's one, then the burst
    burst = sorted(poison_at)[1:]
    # 12 in steps of 5, 0.1 s apart: together, not spread over the run (half of it at most, for a busy CPU)
    assert burst[-1] - burst[0] < 2.0
    assert all(s.status == 201 for s in sent if s.kind == "poison")


@pytest.mark.parametrize(("at", "size", "says"), [(-1, 30, "failure-burst-at"), (5, 0, "failure-burst-size")])
def test_a_wrong_burst_is_refused(at: float, size: int, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        TrafficProfile(failure_burst_at=at, failure_burst_size=size)


def test_the_traffic_ends_at_its_duration_even_when_the_api_stops_answering(tmp_path: Path) -> None:
    """Sends queued behind requests the API holds are dropped at the end, never sent late: counted, not timed."""
    release, received = threading.Event(), []

    class Hanging(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            release.wait(2)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        # GIVEN one request in flight at a time and 20 per second to send, WHEN the API holds each one
        generator = TrafficGenerator(f"http://127.0.0.1:{server.server_address[1]}", TrafficProfile(
            rate=20, burst_every=0), tmp_path / "traffic.jsonl", max_in_flight=1)
        generator.run(0.5, threading.Event())
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    # THEN only what was in flight at the end was sent, not the ten or so queued behind it
    assert 1 <= len(received) <= 2, len(received)
