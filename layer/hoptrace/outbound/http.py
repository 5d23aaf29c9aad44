"""Outgoing HTTP (urllib3, and so requests; urllib.request): a client span plus `traceparent`.

Service-to-service calls through API Gateway join the trace this way. AWS SDK traffic is
skipped: botocore's instrumentation marks it with the suppress-HTTP flag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled, is_instrumentation_enabled
from opentelemetry.trace import SpanKind, Status, StatusCode

from hoptrace import health, semconv
from hoptrace.propagation import TRACEPARENT, format_traceparent
from hoptrace.tracing import Tracing

_installed = False


def _start(tracing: Tracing, method: str, url: str) -> Any:
    if not (is_instrumentation_enabled() and is_http_instrumentation_enabled()):
        return None
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    parts = urlsplit(url)
    attributes = {semconv.HTTP_METHOD: method.upper(), semconv.URL_FULL: f"{parts.scheme}://{parts.netloc}{parts.path}",
                  semconv.SERVER_ADDRESS: parts.hostname or ""}
    return tracing.tracer.start_span(f"{method.upper()} {parts.hostname}", kind=SpanKind.CLIENT,
                                     attributes=attributes)


def _traceparent(span: Any) -> str:
    context = span.get_span_context()
    return format_traceparent(context.trace_id, context.span_id, context.trace_flags.sampled)


def _end(span: Any, status: Any, error: BaseException | None) -> None:
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:512]))
    elif isinstance(status, int):
        span.set_attribute(semconv.HTTP_STATUS, status)
        if status >= 400:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
    span.end()


def _traced_call(tracing: Tracing, method: str, url: str, set_header: Callable[[str], None],
                 call: Callable[[], Any], status_of: Callable[[Any], Any]) -> Any:
    try:
        span = _start(tracing, method, url)
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


def install(tracing: Tracing) -> None:
    global _installed
    if _installed:
        return
    import urllib.request

    import urllib3.connectionpool

    pool_class = urllib3.connectionpool.HTTPConnectionPool
    original_urlopen = pool_class.urlopen

    def urlopen(self: Any, method: str, url: str, body: Any = None, headers: Any = None, *args: Any,
                **kwargs: Any) -> Any:
        headers = dict(headers) if headers is not None else dict(self.headers or {})
        full = url if "://" in url else f"{self.scheme}://{self.host}:{self.port}{url}"
        return _traced_call(tracing, method, full, lambda tp: headers.__setitem__(TRACEPARENT, tp),
                            lambda: original_urlopen(self, method, url, body, headers, *args, **kwargs),
                            lambda response: getattr(response, "status", None))

    pool_class.urlopen = urlopen  # type: ignore[method-assign]

    handler_class = urllib.request.AbstractHTTPHandler
    original_do_open = handler_class.do_open

    def do_open(self: Any, http_class: Any, request: Any, **kwargs: Any) -> Any:
        return _traced_call(tracing, request.get_method(), request.full_url,
                            lambda tp: request.add_unredirected_header(TRACEPARENT.capitalize(), tp),
                            lambda: original_do_open(self, http_class, request, **kwargs),
                            lambda response: getattr(response, "status", None))

    handler_class.do_open = do_open  # type: ignore[method-assign]
    _installed = True
