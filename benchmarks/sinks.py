"""Where the peers that do not write logs send their spans: an OTLP/HTTP receiver and X-Ray daemon stand-ins.

Both only record what arrived (per function, by URL path or by port) and answer at once; decoding
waits until the runs are over, so a peer's invocation never waits on the benchmark's parsing.
What arrived proves the peer really exported every invocation, and its size is the peer's
equivalent of hoptrace's log line.
"""

from __future__ import annotations

import gzip
import selectors
import socket
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OtlpReceiver:
    """Stands in for the collector extension the opentelemetry-lambda layer exports to (OTLP/HTTP, keep-alive)."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[bytes]] = defaultdict(list)
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real collector: no new connection per flush

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                bodies[self.path].append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)
        self._thread.start()

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1/traces/{name}"

    def summary(self, name: str) -> dict[str, int]:
        """Requests, bytes and spans received for one function."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        bodies = self.bodies.get(f"/v1/traces/{name}", [])
        spans = 0
        for body in bodies:
            request = ExportTraceServiceRequest.FromString(body)
            spans += sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
        return {"requests": len(bodies), "bytes": sum(map(len, bodies)), "spans": spans}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class XrayDaemons:
    """One UDP socket per function, standing in for the X-Ray daemon; counts datagrams and segment documents."""

    def __init__(self, names: list[str]) -> None:
        self._selector = selectors.DefaultSelector()
        self._sockets: dict[str, socket.socket] = {}
        self.datagrams: dict[str, list[bytes]] = defaultdict(list)
        for name in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            self._sockets[name] = sock
            self._selector.register(sock, selectors.EVENT_READ, name)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="xray-daemons", daemon=True)
        self._thread.start()

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self._sockets[name].getsockname()[1]}"

    def _drain(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                try:
                    self.datagrams[key.data].append(key.fileobj.recv(65536))  # type: ignore[union-attr]
                except BlockingIOError:
                    pass

    def summary(self, name: str) -> dict[str, int]:
        """Datagrams, bytes and (sub)segment documents received for one function."""
        datagrams = self.datagrams.get(name, [])
        return {"requests": len(datagrams), "bytes": sum(map(len, datagrams)), "spans": len(datagrams)}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1)
        for sock in self._sockets.values():
            self._selector.unregister(sock)
            sock.close()
        self._selector.close()
