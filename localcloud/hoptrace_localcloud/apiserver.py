"""The local API Gateway: one HTTP server on 127.0.0.1 routing `Api` and `HttpApi` events to functions."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .events import apigateway
from .events.apigateway import HttpRequest, HttpResponse
from .pool import NotStarted

Invoke = Callable[[dict[str, Any]], Any]  # event -> pool Invocation


@dataclass
class Route:
    """One `Api`/`HttpApi` event: method + path template, the payload kind and the function to call."""

    method: str
    path: str
    kind: str  # "rest" (v1) or "http" (v2)
    invoke: Invoke
    function_name: str
    stage: str = "Prod"
    api_id: str = "local"
    binary_media_types: tuple[str, ...] = ()
    #: An authorizer (apiauth.py): request, path parameters, route info -> Decision.
    authorize: Callable[..., Any] | None = None
    #: The security requirement's scopes (JWT authorizers check them).
    scopes: tuple[str, ...] = ()
    #: A service integration answering the request itself (apiservice.py), instead of invoking a function.
    respond: Callable[[HttpRequest, dict[str, str]], HttpResponse] | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", self.path):
            if part.startswith("{") and part.endswith("+}"):
                pattern += f"(?P<{_group(part[1:-2])}>.+)"
            elif part.startswith("{"):
                pattern += f"(?P<{_group(part[1:-1])}>[^/]+)"
            else:
                pattern += re.escape(part)
        self._regex = re.compile(f"^{pattern}/?$") if self.path != "$default" else re.compile(".*")

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Exact paths beat parameters, which beat greedy `{proxy+}`; explicit methods beat ANY."""
        return ("+}" in self.path or self.path == "$default", self.path.count("{"), self.method == "ANY")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        found = self._regex.match(path)
        if found is None:
            return None
        names = re.findall(r"\{([^}+]+)\+?\}", self.path)
        return {name: found.group(_group(name)) for name in names}

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog of 5 reset connections when a burst of clients arrived at
    # once (API Gateway accepts them all); 128 is the kernel's usual somaxconn.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: tuple[str, int]) -> None:
        """A client that hung up before its answer (its own timeout) is not our error: no traceback on the
        user's terminal, as API Gateway logs nothing for it either. Anything else still prints one."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ApiServer:
    """Serves every route on one port; a request for no route gets API Gateway's 403/404 answer."""

    def __init__(self, account_id: str, port: int = 0) -> None:
        self.routes: list[Route] = []
        self._account_id = account_id
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                server._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), name="api-server",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add_route(self, route: Route) -> None:
        self.routes.append(route)
        self.routes.sort(key=lambda r: r.specificity)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, so never call it before start()
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = HttpRequest(
            method=handler.command, path=split.path,
            query=parse_qsl(split.query, keep_blank_values=True),
            headers=list(handler.headers.items()),
            body=handler.rfile.read(length) if length else b"",
            source_ip=handler.client_address[0],
        )
        response = self.respond(request)
        handler.send_response(response.status)
        for key, value in response.headers:
            if key.lower() not in ("content-length", "connection"):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        if request.method != "HEAD":
            handler.wfile.write(response.body)

    def respond(self, request: HttpRequest) -> HttpResponse:
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is None:
                continue
            authorizer = None
            if route.authorize is not None:
                decision = route.authorize(request, params, {
                    "api_id": route.api_id, "stage": route.stage, "path": route.path, "route_key": route.route_key,
                    "scopes": list(route.scopes)})
                if decision.response is not None:
                    return decision.response
                authorizer = decision.context
            if route.respond is not None:
                return route.respond(request, params)
            if route.kind == "rest":
                event = apigateway.rest_event(request, route.path, params, route.stage, route.api_id,
                                              self._account_id, route.binary_media_types)
            else:
                event = apigateway.http_api_event(request, route.route_key, params, route.stage, route.api_id,
                                                  self._account_id)
            if authorizer is not None:
                event["requestContext"]["authorizer"] = authorizer
            try:
                invocation = route.invoke(event)
            except NotStarted:
                return apigateway.ENDPOINT_TIMED_OUT if route.kind == "rest" else apigateway.SERVICE_UNAVAILABLE
            if invocation.failed:
                return apigateway.BAD_GATEWAY if route.kind == "rest" else HttpResponse(
                    500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}')
            mapper = apigateway.rest_response if route.kind == "rest" else apigateway.http_api_response
            return mapper(invocation.payload)
        return HttpResponse(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
