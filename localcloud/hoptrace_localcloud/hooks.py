"""Operations the local cloud answers itself although functions send them to moto.

Functions' boto3 talks to moto through `AWS_ENDPOINT_URL`. For operations moto cannot do our way (Step
Functions executions that run Lambda tasks in our workers), a small WSGI middleware in the moto process
forwards requests with selected `X-Amz-Target`s over loopback to a `HookServer` in the local cloud's own
process, which hands them to the registered handler and returns its answer unchanged. Any service using the
AWS JSON protocol can hook in with `HookServer.register(target, handler)`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger("hoptrace.localcloud")
URL_VARIABLE = "HOPTRACE_LOCAL_HOOK_URL"
TARGETS_VARIABLE = "HOPTRACE_LOCAL_HOOK_TARGETS"
FORWARD_TIMEOUT = 900.0  # StartSyncExecution waits for the whole execution (AWS: up to 5 minutes)
JSON_CONTENT = "application/x-amz-json-1.0"

# A handler takes the request's JSON body and returns (HTTP status, JSON body).
Handler = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class HookTargets:
    """Where the hook server listens and which `X-Amz-Target`s go there (handed to the moto process)."""

    url: str
    targets: frozenset[str]

    def environment(self) -> dict[str, str]:
        return {URL_VARIABLE: self.url, TARGETS_VARIABLE: ",".join(sorted(self.targets))}

    @classmethod
    def from_environment(cls) -> HookTargets | None:
        url, targets = os.environ.get(URL_VARIABLE), os.environ.get(TARGETS_VARIABLE)
        if not url or not targets:
            return None
        return cls(url, frozenset(t for t in targets.split(",") if t))


def forward_selected(app: Any, hooks: HookTargets | None) -> Any:
    """Wrap moto's WSGI app: hooked targets go to the local cloud, everything else to moto."""
    if hooks is None:
        return app

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target not in hooks.targets:
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b"{}"
        request = urllib.request.Request(hooks.url, data=body, method="POST",
                                         headers={"X-Amz-Target": target, "Content-Type": JSON_CONTENT})
        try:
            with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        except OSError as error:  # the local cloud is gone or stuck: answer as a service error, never hang
            status, payload = 503, json.dumps({"__type": "ServiceUnavailable",
                                               "message": f"the local cloud did not answer {target}: {error}"}
                                              ).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", JSON_CONTENT), ("Content-Length", str(len(payload)))])
        return [payload]

    return middleware


class HookServer:
    """Serves hooked operations on 127.0.0.1; started before moto so moto knows where to forward."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        hooks = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = hooks.dispatch(self.headers.get("X-Amz-Target", ""), self.rfile.read(length))
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", JSON_CONTENT)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), name="hook-server",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def register(self, target: str, handler: Handler) -> None:
        self._handlers[target] = handler

    def targets(self, targets: Iterable[str]) -> HookTargets:
        """What to tell moto: these targets (registered now or later) come here."""
        return HookTargets(self.url, frozenset(targets))

    def dispatch(self, target: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        handler = self._handlers.get(target)
        if handler is None:
            return 400, {"__type": "UnknownOperationException", "message": f"{target} is not hooked locally"}
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"__type": "SerializationException", "message": "the request body is not JSON"}
        if not isinstance(request, dict):
            return 400, {"__type": "SerializationException", "message": "the request body must be a JSON object"}
        try:
            return handler(request)
        except Exception as exc:  # a hook bug is the caller's 500, not a dead server
            logger.exception("local hook %s failed", target)
            return 500, {"__type": "InternalFailure", "message": f"{type(exc).__name__}: {exc}"}

    def stop(self) -> None:
        self._httpd.shutdown()
        self._thread.join(5)
        self._httpd.server_close()
