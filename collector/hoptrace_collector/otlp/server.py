"""`POST /v1/traces` over HTTP (OTLP/HTTP, JSON or protobuf), written to a hoptrace store.

Standard library only (ThreadingHTTPServer), so it runs wherever the collector does. It binds
127.0.0.1 unless told otherwise; on any other address it insists on a bearer token, because
anyone who can reach the port could otherwise write spans. Bodies over `max_body_bytes`
(default 8 MiB, after gzip) get 413, unknown content types 415, garbage 400 with the reason,
a store that cannot write 503 (OTLP senders retry that). Invalid spans are skipped and
reported as OTLP `partialSuccess` (rejected count and the first reasons).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hoptrace_collector.ingest.problems import Problems, log_line
from hoptrace_collector.ingest.records import DEFAULT_LIMITS, Limits
from hoptrace_collector.otlp.decode import OtlpError, ProtobufUnavailable, from_json, from_protobuf, protobuf_module
from hoptrace_collector.otlp.decode import to_records as otlp_records
from hoptrace_collector.store.base import Store

PATH = "/v1/traces"
DEFAULT_PORT = 4318
MAX_BODY_BYTES = 8 * 1024 * 1024
JSON, PROTOBUF = "application/json", "application/x-protobuf"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuse (ValueError) to listen off loopback without a token: anyone reaching the port could write spans."""
    if not is_loopback(host) and not token:
        raise ValueError(f"refusing to listen on {host} without a token: anyone reaching the port could write "
                         "spans; pass --token (or HOPTRACE_OTLP_TOKEN), or bind 127.0.0.1")


class HttpProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class OtlpReceiver:
    """The receiver's settings and state; `start()` serves on a thread, `serve_forever()` on this one."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = DEFAULT_PORT, token: str | None = None,
                 max_body_bytes: int = MAX_BODY_BYTES, limits: Limits = DEFAULT_LIMITS) -> None:
        check_exposure(host, token)
        self.store = store
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.limits = limits
        self.received = 0
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.receiver = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}{PATH}"

    def start(self) -> OtlpReceiver:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="otlp-receiver", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, content_type: str, body: bytes) -> tuple[bytes, int]:
        """(response body, spans rejected) for one export request; raises HttpProblem."""
        problems = Problems()
        try:
            batches = from_json(body) if content_type == JSON else from_protobuf(body)
        except ProtobufUnavailable as exc:
            raise HttpProblem(415, str(exc)) from exc
        except OtlpError as exc:
            raise HttpProblem(400, str(exc)) from exc
        records, rejected = otlp_records(batches, self.limits, problems)
        if records:
            try:
                self.store.write(records)
            except Exception as exc:
                log_line("otlp_store_write_failed", error=str(exc), spans=len(records))
                raise HttpProblem(503, f"the store could not write the spans ({exc}); retry later") from exc
        self.received += len(records)
        if problems:
            log_line("otlp_problems", problems=problems.as_dict(), samples=problems.samples)
        return _response(content_type, rejected), len(rejected)


def _response(content_type: str, rejected: list[str]) -> bytes:
    message = "; ".join(rejected[:5])
    if content_type == JSON:
        payload = {"partialSuccess": {"rejectedSpans": str(len(rejected)), "errorMessage": message}} if rejected else {}
        return json.dumps(payload).encode()
    response = protobuf_module().ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = len(rejected)
        response.partial_success.error_message = message
    return response.SerializeToString()


class _Handler(BaseHTTPRequestHandler):
    server_version = "hoptrace-otlp"
    protocol_version = "HTTP/1.1"

    @property
    def receiver(self) -> OtlpReceiver:
        return self.server.receiver  # type: ignore[attr-defined, no-any-return]

    def do_POST(self) -> None:
        try:
            content_type, body = self._read()
            response, _rejected = self.receiver.handle(content_type, body)
        except HttpProblem as problem:
            self._send(problem.status, str(problem).encode(), "text/plain; charset=utf-8")
            return
        self._send(200, response, content_type)

    def do_GET(self) -> None:
        self._send(405 if self.path.split("?")[0] == PATH else 404, b"POST OTLP spans to /v1/traces\n",
                   "text/plain; charset=utf-8")

    def _read(self) -> tuple[str, bytes]:
        if self.path.split("?")[0] != PATH:
            raise HttpProblem(404, f"no such endpoint {self.path!r}: POST OTLP spans to {PATH}")
        receiver = self.receiver
        if receiver.token is not None:
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {receiver.token}".encode()):
                raise HttpProblem(401, "missing or wrong bearer token")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in (JSON, PROTOBUF):
            raise HttpProblem(415, f"Content-Type must be {JSON} or {PROTOBUF}, got {content_type or 'none'!r}")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise HttpProblem(411, "a Content-Length header is required")
        if int(length) > receiver.max_body_bytes:
            self.close_connection = True
            raise HttpProblem(413, f"body of {length} bytes is over the {receiver.max_body_bytes} byte limit")
        body = self.rfile.read(int(length))
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding == "gzip":
            body = _gunzip(body, receiver.max_body_bytes)
        elif encoding not in ("identity", ""):
            raise HttpProblem(415, f"Content-Encoding {encoding!r} is not supported (use gzip or none)")
        return content_type, body

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the collector logs problems itself
        pass


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        data = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise HttpProblem(400, f"body is not valid gzip: {exc}") from exc
    if inflater.unconsumed_tail:
        raise HttpProblem(413, f"body inflates beyond the {limit} byte limit")
    return data


def serve_otlp(store_url: str, host: str = "127.0.0.1", port: int = DEFAULT_PORT, token: str | None = None,
               max_body_bytes: int = MAX_BODY_BYTES) -> None:
    """Receive OTLP/HTTP spans into the store at `store_url` until interrupted."""
    from hoptrace_collector.store import open_store

    check_exposure(host, token)  # before the store is created or anything printed
    store = open_store(store_url)
    receiver = OtlpReceiver(store, host, port, token, max_body_bytes)
    print(f"hoptrace OTLP receiver on {receiver.url} -> {store.url}", flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.httpd.server_close()
        store.close()


__all__ = ["DEFAULT_PORT", "OtlpReceiver", "serve_otlp"]
