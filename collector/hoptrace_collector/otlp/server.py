"""`POST /v1/traces` over HTTP (OTLP/HTTP, JSON or protobuf), written to a hoptrace store.

Standard library only (ThreadingHTTPServer), so it runs wherever the collector does. It binds
127.0.0.1 unless told otherwise; on any other address it insists on a bearer token, because
anyone who can reach the port could otherwise write spans. Bodies over `max_body_bytes`
(default 8 MiB, after gzip) get 413, unknown content types 415, garbage 400 with the reason,
a store that cannot write 503 (OTLP senders retry that). Bad input is never 503 and never a
dropped connection: parts of the wrong type (a `resource` that is a string, `spans` a number,
`events: 5`) cost only themselves — invalid spans are skipped and reported as OTLP
`partialSuccess` (rejected count and the first reasons), an ill-typed attribute is dropped with
a warning; a body with nothing storable is 400 with the reasons.

Connections are bounded: at most `max_connections` at once (then 503 at once), silence longer
than `idle_timeout_s` closes a connection, and a request must arrive whole within
`request_timeout_s` (408 or a close), so slow or idle senders cannot hold the receiver.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from hoptrace_collector.ingest.problems import Problems, log_line
from hoptrace_collector.ingest.records import DEFAULT_LIMITS, Limits
from hoptrace_collector.otlp.decode import (
    OtlpError,
    ProtobufUnavailable,
    Warnings,
    from_json,
    from_protobuf,
    protobuf_module,
)
from hoptrace_collector.otlp.decode import to_records as otlp_records
from hoptrace_collector.store.base import Store, UnstorableError

PATH = "/v1/traces"
DEFAULT_PORT = 4318
MAX_BODY_BYTES = 8 * 1024 * 1024
IDLE_TIMEOUT_S = 15.0  # a connection silent this long (keep-alive or mid-request) is closed
REQUEST_TIMEOUT_S = 30.0  # a request's line, headers and body must all arrive within this
MAX_CONNECTIONS = 64  # beyond this a new connection gets 503 at once (senders retry), never a hang
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
         b"Content-Length: 45\r\nConnection: close\r\n\r\ntoo many open connections; retry in a second\n")
_LINGER_S = 10.0  # at most this long a refused connection is read to its end before it is closed (a sender
# closes once it has read the 503, which ends it sooner)
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
                 max_body_bytes: int = MAX_BODY_BYTES, limits: Limits = DEFAULT_LIMITS,
                 idle_timeout_s: float = IDLE_TIMEOUT_S, request_timeout_s: float = REQUEST_TIMEOUT_S,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        check_exposure(host, token)
        self.store = store
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.limits = limits
        self.idle_timeout_s = idle_timeout_s
        self.request_timeout_s = request_timeout_s
        self.received = 0
        self.httpd = _Server((host, port), max_connections)
        self.httpd.receiver = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = cast(str, self.httpd.server_address[0])  # an AF_INET server: its address is (host, port)
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

    @property
    def open_connections(self) -> int:
        """Connections being served now (each holds one of `max_connections` slots)."""
        return self.httpd.open_connections

    def handle(self, content_type: str, body: bytes) -> tuple[bytes, int]:
        """(response body, spans rejected) for one export request; raises HttpProblem.

        What cannot be read costs only itself: with some spans stored, the rest is reported as
        OTLP `partialSuccess`; with none, the answer is 400 with the reasons (a permanent failure,
        so exporters do not resend the same garbage). Only a store that cannot write is 503.
        """
        problems = Problems()
        warnings = Warnings()
        try:
            batches = from_json(body, warnings) if content_type == JSON else from_protobuf(body)
        except ProtobufUnavailable as exc:
            raise HttpProblem(415, str(exc)) from exc
        except OtlpError as exc:
            raise HttpProblem(400, str(exc)) from exc
        except RecursionError as exc:
            raise HttpProblem(400, "body is nested deeper than this receiver reads") from exc
        records, rejected = otlp_records(batches, self.limits, problems)
        refused = self._write(records, problems) if records else []
        stored = len(records) - len(refused)
        rejected += refused
        self.received += stored
        if warnings:
            problems.add("bad_attribute", warnings[0], len(warnings))
        if problems:
            log_line("otlp_problems", problems=problems.as_dict(), samples=problems.samples)
        if rejected and not stored:
            raise HttpProblem(400, f"no span in the body could be stored ({len(rejected)} rejected): "
                              + "; ".join(rejected[:5]))
        return _response(content_type, rejected, warnings), len(rejected)

    def _write(self, records: list[Any], problems: Problems) -> list[str]:
        """Store the records; the ones the store cannot take (UnstorableError) are isolated and returned."""
        try:
            self.store.write(records)
            return []
        except UnstorableError:
            pass
        except Exception as exc:
            log_line("otlp_store_write_failed", error=str(exc), spans=len(records))
            raise HttpProblem(503, f"the store could not write the spans ({exc}); retry later") from exc
        refused = []
        for record in records:
            try:
                self.store.write([record])
            except UnstorableError as exc:
                problems.add("unstorable_span", str(exc))
                refused.append(f"span {record.span_id} of trace {record.trace_id} cannot be stored: {exc}")
            except Exception as exc:
                raise HttpProblem(503, f"the store could not write the spans ({exc}); retry later") from exc
        return refused


def _response(content_type: str, rejected: list[str], warnings: list[str] | None = None) -> bytes:
    message = "; ".join((rejected or warnings or [])[:5])
    if content_type == JSON:
        payload = ({"partialSuccess": {"rejectedSpans": str(len(rejected)), "errorMessage": message}}
                   if rejected or warnings else {})
        return json.dumps(payload).encode()
    response = protobuf_module().ExportTraceServiceResponse()
    if rejected or warnings:
        response.partial_success.rejected_spans = len(rejected)
        response.partial_success.error_message = message
    return response.SerializeToString()


class _Server(ThreadingHTTPServer):
    """A threading server that holds at most `max_connections` and cuts off requests that arrive too slowly.

    Each connection takes a slot; with none free, the connection is answered 503 and closed at
    once. While a request is being read (line, headers, body) it has a deadline; a reaper thread
    shuts down the sockets of requests past theirs, which unblocks the thread reading them.
    """

    daemon_threads = True
    receiver: OtlpReceiver  # set by the receiver that owns it; its handlers read their settings there

    def __init__(self, address: tuple[str, int], max_connections: int) -> None:
        self._closed = threading.Event()  # first: a failed bind calls server_close() from super().__init__
        super().__init__(address, _Handler)
        self.slots = threading.BoundedSemaphore(max_connections)
        self.lingering = threading.BoundedSemaphore(max_connections)  # refused connections being read to their end
        self.open_connections = 0
        self._lock = threading.Lock()
        self._deadlines: dict[_Handler, float] = {}
        threading.Thread(target=self._reap, name="otlp-reaper", daemon=True).start()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            if self.lingering.acquire(blocking=False):
                threading.Thread(target=self._refuse, args=(request,), name="otlp-busy", daemon=True).start()
            else:  # a flood of refused connections: no thread each, the 503 may be cut short by a reset
                self._refuse(request, linger=False)
            return
        with self._lock:
            self.open_connections += 1
        try:
            super().process_request(request, client_address)
        except Exception:
            self._release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _refuse(self, request: Any, linger: bool = True) -> None:
        """Answer 503 and close, reading what the sender still sends first (a lingering close): closing a
        socket with unread bytes resets the connection, so a sender still writing its request, the usual
        case when the 503 goes out the moment the connection is accepted, would see a broken pipe instead."""
        try:
            request.settimeout(0.5)
            request.sendall(_BUSY)
            request.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_S
            while linger and (left := deadline - time.monotonic()) > 0:
                request.settimeout(left)  # a sender descheduled between connect and send is still waited for
                if not request.recv(1 << 16):
                    break  # the sender read its 503 and closed
        except OSError:
            pass
        finally:
            request.close()
            if linger:
                self.lingering.release()

    def _release(self) -> None:
        with self._lock:
            self.open_connections -= 1
        self.slots.release()

    def watch(self, handler: _Handler, seconds: float) -> None:
        with self._lock:
            self._deadlines[handler] = time.monotonic() + seconds

    def unwatch(self, handler: _Handler) -> None:
        with self._lock:
            self._deadlines.pop(handler, None)

    def _reap(self) -> None:
        while not self._closed.wait(0.2):
            now = time.monotonic()
            with self._lock:
                late = [h for h, deadline in self._deadlines.items() if deadline < now]
                for handler in late:
                    del self._deadlines[handler]
            for handler in late:
                handler.cut_off()

    def server_close(self) -> None:
        self._closed.set()
        super().server_close()


class _Handler(BaseHTTPRequestHandler):
    server_version = "hoptrace-otlp"
    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def receiver(self) -> OtlpReceiver:
        return self.server.receiver

    def setup(self) -> None:
        # Applied to the socket by StreamRequestHandler.setup: bounds every silent wait. Per connection, so set on
        # the instance, which typeshed's ClassVar declaration does not foresee.
        self.timeout = self.receiver.idle_timeout_s  # type: ignore[misc]  # see above
        super().setup()

    def handle_one_request(self) -> None:
        self.server.watch(self, self.receiver.request_timeout_s)
        try:
            super().handle_one_request()
        finally:
            self.server.unwatch(self)

    def cut_off(self) -> None:
        """Called by the reaper: the request did not arrive in time; unblock the read and close."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_POST(self) -> None:
        try:
            content_type, body = self._read()
            self.server.unwatch(self)  # the request is in: storing it may take its time
            response, _rejected = self.receiver.handle(content_type, body)
        except HttpProblem as problem:
            self._send(problem.status, str(problem).encode(), "text/plain; charset=utf-8")
            return
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True  # the sender went away or stalled: nobody to answer
            return
        except Exception as exc:  # a bug here must still answer, never drop the connection
            log_line("otlp_internal_error", error=f"{type(exc).__name__}: {exc}")
            self._send(500, f"internal error reading the request ({type(exc).__name__})".encode(),
                       "text/plain; charset=utf-8")
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
        body = self._body(int(length))
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding == "gzip":
            body = _gunzip(body, receiver.max_body_bytes)
        elif encoding not in ("identity", ""):
            raise HttpProblem(415, f"Content-Encoding {encoding!r} is not supported (use gzip or none)")
        return content_type, body

    def _body(self, length: int) -> bytes:
        chunks: list[bytes] = []
        remaining = length
        while remaining:
            try:
                chunk = self.rfile.read1(min(remaining, 1 << 16))
            except TimeoutError as exc:
                self.close_connection = True
                raise HttpProblem(408, f"the body stalled ({length - remaining} of {length} bytes after "
                                  f"{self.receiver.idle_timeout_s:g} s of silence)") from exc
            if not chunk:
                self.close_connection = True
                raise HttpProblem(400, f"the connection ended after {length - remaining} of {length} body bytes")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

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
