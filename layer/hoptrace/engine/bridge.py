"""OpenTelemetry stays the interface: spans made through `opentelemetry-api` land in our trace.

Imported only when the function's own code (or a third-party instrumentation it uses) has
imported `opentelemetry.trace`: the default engine never imports OpenTelemetry otherwise. Then
a `TracerProvider` of the API backed by the light engine is registered (unless the function
registered its own), and the engine's current span is mirrored into OpenTelemetry's context, so
`trace.get_current_span()` in user code is the invocation span, user spans are its children, and
AWS SDK calls made inside a user span are children of that span.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

# The API's own decorator for `start_as_current_span` (private, but what its Tracer and the SDK's use):
# unlike contextlib's, the context manager it makes also decorates an `async def` around its await.
from opentelemetry.util._decorator import _agnosticcontextmanager

from hoptrace import record_scope
from hoptrace.engine import exception_attributes
from hoptrace.propagation import Carried

_KINDS = {SpanKind.INTERNAL: "internal", SpanKind.SERVER: "server", SpanKind.CLIENT: "client",
          SpanKind.PRODUCER: "producer", SpanKind.CONSUMER: "consumer"}


class BridgeSpan(trace.Span):
    """An API span whose data is a light-engine span."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self._context = SpanContext(ref.trace_id, ref.span_id, is_remote=False,
                                    trace_flags=TraceFlags(TraceFlags.SAMPLED if ref.sampled else 0))

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self.ref.sampled and self.ref.end_ns is None

    def set_attribute(self, key: str, value: Any) -> None:
        self.ref.set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        self.ref.set_attributes(attributes)

    def add_event(self, name: str, attributes: Any = None, timestamp: int | None = None) -> None:
        self.ref.add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: Any = None) -> None:
        if not self.is_recording() or not context.is_valid:
            return
        links = self.ref.links if self.ref.links is not None else []
        links.append({"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}",
                      "attributes": dict(attributes or {})})
        self.ref.links = links

    def update_name(self, name: str) -> None:
        if self.is_recording():
            self.ref.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if isinstance(status, Status):
            code, description = status.status_code, status.description
        else:
            code = status
        if code is StatusCode.ERROR:
            self.ref.set_status("error", description or "")
        elif code is StatusCode.OK:
            self.ref.set_status("ok")

    def record_exception(self, exception: BaseException, attributes: Any = None, timestamp: int | None = None,
                         escaped: bool = False) -> None:
        if not self.is_recording():
            return
        recorded: dict[str, Any] = exception_attributes(exception, escaped)
        if attributes:
            recorded.update(attributes)
        self.ref.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        self.ref.end(end_time)


class BridgeTracer(trace.Tracer):
    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def start_span(self, name: str, context: Any = None, kind: SpanKind = SpanKind.INTERNAL, attributes: Any = None,
                   links: Sequence[Link] | None = None, start_time: int | None = None, record_exception: bool = True,
                   set_status_on_exception: bool = True) -> trace.Span:
        engine = self._engine
        holder = trace.get_current_span(context)
        parent: Any
        if isinstance(holder, BridgeSpan):
            parent = holder.ref
        elif holder.get_span_context().is_valid:  # a context extracted from a carrier by a propagator
            carried = holder.get_span_context()
            parent = Carried(carried.trace_id, carried.span_id, carried.trace_flags.sampled, "otel-api")
        else:
            parent = None if context is not None else engine.current_own()
        parent = record_scope.parent(parent) if parent is not None and not isinstance(parent, Carried) else parent
        span_links = [(link.context.trace_id, link.context.span_id, link.attributes or {})
                      for link in links or () if link.context.is_valid]
        return BridgeSpan(engine.start_span(name, _KINDS.get(kind, "internal"), parent=parent,
                                            attributes=attributes, links=span_links, start_ns=start_time))

    @_agnosticcontextmanager
    def start_as_current_span(self, name: str, context: Any = None, kind: SpanKind = SpanKind.INTERNAL,
                              attributes: Any = None, links: Sequence[Link] | None = None,
                              start_time: int | None = None, record_exception: bool = True,
                              set_status_on_exception: bool = True, end_on_exit: bool = True) -> Iterator[trace.Span]:
        span = self.start_span(name, context, kind, attributes, links, start_time)
        with trace.use_span(span, end_on_exit=end_on_exit, record_exception=record_exception,
                            set_status_on_exception=set_status_on_exception) as current:
            yield current


class BridgeProvider(trace.TracerProvider):
    def __init__(self, engine: Any) -> None:
        self._tracer = BridgeTracer(engine)

    def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
        return self._tracer


class Bridge:
    """What the light engine calls when a span becomes current or it needs the current one."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def attach(self, span: Any) -> object:
        return otel_context.attach(trace.set_span_in_context(BridgeSpan(span)))

    def detach(self, token: Any) -> None:
        otel_context.detach(token)

    def current(self) -> Any:
        """The innermost of ours and the user's: OpenTelemetry's current span when it is one of ours."""
        holder = trace.get_current_span()
        if isinstance(holder, BridgeSpan):
            return holder.ref
        return self._engine.current_own()


def install(engine: Any) -> Bridge | None:
    """Register the bridge with the API, unless the function set a provider of its own.

    A second light engine (a handler wrapped with its own `Config`) shares the registered bridge."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, BridgeProvider):
        provider._tracer._engine = engine
        return Bridge(engine)
    if type(provider).__name__ != "ProxyTracerProvider":
        return None
    trace.set_tracer_provider(BridgeProvider(engine))
    return Bridge(engine)


def follow(engine: Any) -> None:
    """Spans the function starts through the API go to `engine`, the light engine now running."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, BridgeProvider) and getattr(engine, "bridge", None) is not None:
        provider._tracer._engine = engine
