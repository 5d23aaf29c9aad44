"""Outgoing HTTP (urllib3, and so requests; urllib.request): a client span plus `traceparent`.

Service-to-service calls through API Gateway join the trace this way. AWS SDK traffic is
skipped: our AWS SDK hook marks it (`suppression.IN_AWS_CALL`) and already made its span.
"""

from __future__ import annotations

import _thread
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from hoptrace import health, record_scope, semconv
from hoptrace.engine import Engine, SpanRef
from hoptrace.outbound.suppression import IN_AWS_CALL
from hoptrace.propagation import TRACEPARENT

_installed: set[str] = set()
_engine: Any = None


def _start(method: str, url: str) -> Any:
    if IN_AWS_CALL and _thread.get_ident() in IN_AWS_CALL:
        return None
    engine = _engine
    if engine is None:  # the active tracing's config says trace_http=False
        return None
    parent = record_scope.parent(engine.current(), 4)
    if parent is None:
        return None
    parts = urlsplit(url)
    attributes = {semconv.HTTP_METHOD: method.upper(), semconv.URL_FULL: f"{parts.scheme}://{parts.netloc}{parts.path}",
                  semconv.SERVER_ADDRESS: parts.hostname or ""}
    return engine.start_span(f"{method.upper()} {parts.hostname}", "client", parent=parent, attributes=attributes)


def _traceparent(span: SpanRef) -> str:
    return span.traceparent()


def _end(span: Any, status: Any, error: BaseException | None) -> None:
    if error is not None:
        span.set_status("error", f"{type(error).__name__}: {error}"[:512])
    elif isinstance(status, int):
        span.set_attribute(semconv.HTTP_STATUS, status)
        if status >= 400:
            span.set_status("error", f"HTTP {status}")
    span.end()


def _traced_call(method: str, url: str, set_header: Callable[[str], None],
                 call: Callable[[], Any], status_of: Callable[[Any], Any]) -> Any:
    try:
        span = _start(method, url)
        if span is not None:
            set_header(_traceparent(span))
    except Exception as error:
        health.swallow("http.start", error)
        span = None
    if span is None:
        return call()
    try:
        response = call()
    except BaseException as error:
        _safe_end(span, None, error)
        raise
    _safe_end(span, status_of(response), None)
    return response


def _safe_end(span: Any, status: Any, error: BaseException | None) -> None:
    try:
        _end(span, status, error)
    except Exception as failure:
        health.swallow("http.end", failure)


def install_urllib3(engine: Engine | None) -> None:
    global _engine
    _engine = engine
    if "urllib3" in _installed:
        return
    # From sys.modules: this may run right after the module's code, before its package binds it.
    pool_class = sys.modules["urllib3.connectionpool"].HTTPConnectionPool
    original_urlopen = pool_class.urlopen

    def urlopen(self: Any, method: str, url: str, body: Any = None, headers: Any = None, *args: Any,
                **kwargs: Any) -> Any:
        if _engine is None or (IN_AWS_CALL and _thread.get_ident() in IN_AWS_CALL):
            return original_urlopen(self, method, url, body, headers, *args, **kwargs)
        headers = dict(headers) if headers is not None else dict(self.headers or {})
        full = url if "://" in url else f"{self.scheme}://{self.host}:{self.port}{url}"
        return _traced_call(method, full, lambda tp: headers.__setitem__(TRACEPARENT, tp),
                            lambda: original_urlopen(self, method, url, body, headers, *args, **kwargs),
                            lambda response: getattr(response, "status", None))

    pool_class.urlopen = urlopen
    _installed.add("urllib3")


def install_urllib(engine: Engine | None) -> None:
    global _engine
    _engine = engine
    if "urllib" in _installed:
        return
    handler_class = sys.modules["urllib.request"].AbstractHTTPHandler
    original_do_open = handler_class.do_open

    def do_open(self: Any, http_class: Any, request: Any, **kwargs: Any) -> Any:
        return _traced_call(request.get_method(), request.full_url,
                            lambda tp: request.add_unredirected_header(TRACEPARENT.capitalize(), tp),
                            lambda: original_do_open(self, http_class, request, **kwargs),
                            lambda response: getattr(response, "status", None))

    handler_class.do_open = do_open
    _installed.add("urllib")
