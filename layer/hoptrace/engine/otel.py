"""The OpenTelemetry SDK engine (`HOPTRACE_ENGINE=otel`): for teams that want SDK processors or exporters.

The SDK's `TracerProvider` is registered with the OpenTelemetry API, so anything the SDK offers
(span processors, exporters added by the user) sees every span; the lines written are the same
as the default engine's. Built once at init: `Resource(...)` directly, because
`Resource.create()` scans entry points, the slow part of the stock OpenTelemetry layer's start-up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, Tracer, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from hoptrace import record_scope
from hoptrace.config import Config
from hoptrace.engine import CURRENT, LinkTo, carried_sampled, exception_attributes, sample_bound
from hoptrace.engine.ids import Ids
from hoptrace.engine.resource import resource_attributes
from hoptrace.propagation import Carried, format_traceparent

VERSION = "0.1.0"
_KINDS = {"internal": SpanKind.INTERNAL, "server": SpanKind.SERVER, "client": SpanKind.CLIENT,
          "producer": SpanKind.PRODUCER, "consumer": SpanKind.CONSUMER}
_WIRE_KIND = {v: k for k, v in _KINDS.items()}
_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}


class XRayIdGenerator(IdGenerator):
    """Epoch-prefixed trace ids (valid X-Ray ids) from `Ids`; a carried X-Ray Root can be adopted."""

    def __init__(self, ids: Ids) -> None:
        self._ids = ids
        self._adopt = threading.local()

    def adopt_next(self, trace_id: int | None) -> None:
        self._adopt.trace_id = trace_id

    def generate_span_id(self) -> int:
        return self._ids.span_id()

    def generate_trace_id(self) -> int:
        adopted: int | None = getattr(self._adopt, "trace_id", None)  # only adopt_next sets it
        if adopted is not None:
            self._adopt.trace_id = None
            return adopted
        return self._ids.trace_id()


class InvocationBuffer(SpanProcessor):
    """Keeps finished spans in memory until the wrapper writes them at the end of the invocation."""

    def __init__(self) -> None:
        self._spans: list[ReadableSpan] = []
        self.open: dict[int, Any] = {}  # sampled spans started and not ended (SDK spans): what a timeout interrupts

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        if span.get_span_context().trace_flags.sampled:
            self.open[span.get_span_context().span_id] = span

    def on_end(self, span: ReadableSpan) -> None:
        self._spans.append(span)
        context = span.get_span_context()
        if context is not None:
            self.open.pop(context.span_id, None)

    def drain(self) -> Sequence[ReadableSpan]:
        spans, self._spans = self._spans, []
        self.open.clear()
        return spans

    def shutdown(self) -> None:
        self._spans = []

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _ScopedTracer(Tracer):
    """The SDK tracer, but a span started under a mixed batch's invocation span joins its record's trace."""

    def start_span(self, name: str, context: Context | None = None, *args: Any, **kwargs: Any) -> Any:
        if record_scope.active():
            holder = trace.get_current_span(context)
            found = record_scope.parent(_Held(holder), 2)
            if isinstance(found, OtelSpan):
                context = trace.set_span_in_context(found.span, context)
        return super().start_span(name, context, *args, **kwargs)


class _Held:
    """Just the span id of an SDK span, for `record_scope.parent`'s comparison."""

    __slots__ = ("span_id",)

    def __init__(self, span: Any) -> None:
        self.span_id = span.get_span_context().span_id


class _Provider(TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        tracer = super().get_tracer(*args, **kwargs)
        if type(tracer) is Tracer:
            tracer.__class__ = _ScopedTracer
        return tracer


class OtelSpan:
    """An SDK span seen through the seam."""

    __slots__ = ("clock", "sampled", "span", "span_id", "trace_id")

    def __init__(self, span: Any, clock: Callable[[], int]) -> None:
        context = span.get_span_context()
        self.span = span
        self.trace_id = context.trace_id
        self.span_id = context.span_id
        self.sampled = context.trace_flags.sampled
        self.clock = clock

    def set_attribute(self, key: str, value: Any) -> None:
        self.span.set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        self.span.set_attributes(attributes)

    def traceparent(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, self.sampled)

    def set_status(self, code: str, message: str = "") -> None:
        self.span.set_status(Status(StatusCode.ERROR if code == "error" else StatusCode.OK,
                                    message if code == "error" else None))

    def record_exception(self, error: BaseException, *, escaped: bool = False) -> None:
        if self.span.is_recording():
            self.span.add_event("exception", exception_attributes(error, escaped), timestamp=self.clock())

    def end(self, end_ns: int | None = None) -> None:
        self.span.end(end_time=end_ns if end_ns is not None else self.clock())


def _trace_state(header: str) -> TraceState | None:
    if not header:
        return None
    try:
        return TraceState.from_header([header])
    except Exception:
        return None


def _attributes(attributes: Any) -> dict[str, Any]:
    if not attributes:
        return {}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def to_wire(span: Any) -> dict[str, Any]:
    context = span.context
    parent = span.parent
    status: dict[str, Any] = {"code": _STATUS[span.status.status_code]}
    if span.status.description:
        status["message"] = span.status.description
    out: dict[str, Any] = {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{parent.span_id:016x}" if parent is not None else None,
        "name": span.name,
        "kind": _WIRE_KIND[span.kind],
        "start": span.start_time,
        "end": span.end_time,
        "status": status,
        "attributes": _attributes(span.attributes),
    }
    if span.events:
        out["events"] = [{"name": e.name, "time": e.timestamp, "attributes": _attributes(e.attributes)}
                         for e in span.events]
    if span.links:
        out["links"] = [{"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}",
                         "attributes": _attributes(link.attributes)} for link in span.links]
    return out


class OtelEngine:
    """The SDK's provider, sampler (parent-based trace-id ratio) and our id generator, built once."""

    def __init__(self, config: Config, *, ids: Ids | None = None, clock: Callable[[], int] | None = None) -> None:
        self.ids = XRayIdGenerator(ids or Ids())
        self.buffer = InvocationBuffer()
        self.resource = resource_attributes(config)
        self.clock = clock or time.time_ns
        self._bound = sample_bound(config.sample_rate)
        limits = SpanLimits(max_attribute_length=config.max_attribute_length, max_attributes=128,
                            max_events=64, max_links=128, max_event_attributes=32, max_span_attributes=128)
        self.provider = _Provider(sampler=ParentBased(TraceIdRatioBased(config.sample_rate)),
                                       resource=Resource(self.resource), id_generator=self.ids, span_limits=limits)
        self.provider.add_span_processor(self.buffer)
        self.tracer = self.provider.get_tracer("hoptrace", VERSION)
        self._bridged = False

    def _remote_context(self, carried: Carried) -> Context:
        if carried.span_id is None:
            self.ids.adopt_next(carried.trace_id)
            return Context()
        return trace.set_span_in_context(NonRecordingSpan(self._span_context(carried)), Context())

    def _span_context(self, carried: Carried) -> SpanContext:
        sampled = carried_sampled(carried, self._bound)
        return SpanContext(carried.trace_id, carried.span_id or 0, is_remote=True,
                           trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else 0),
                           trace_state=_trace_state(carried.tracestate))

    def start_span(self, name: str, kind: str, *, parent: Any = CURRENT, attributes: Mapping[str, Any] | None = None,
                   links: Sequence[LinkTo] = (), start_ns: int | None = None) -> OtelSpan:
        if parent is CURRENT:
            context = None
        elif parent is None:
            context = Context()
        elif isinstance(parent, OtelSpan):
            context = trace.set_span_in_context(parent.span, Context())
        else:
            context = self._remote_context(parent)
        otel_links = [Link(SpanContext(t, s, is_remote=True), a) for t, s, a in links]
        span = self.tracer.start_span(name, context=context, kind=_KINDS[kind], attributes=attributes,
                                      links=otel_links, start_time=start_ns if start_ns is not None else self.clock())
        return OtelSpan(span, self.clock)

    def prepared_attributes(self, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        return dict(attributes)  # the SDK checks and copies them per span whatever we do

    def current(self) -> OtelSpan | None:
        span = trace.get_current_span()
        if not span.get_span_context().is_valid:
            return None
        return OtelSpan(span, self.clock)

    def activate(self, span: Any) -> object:
        return otel_context.attach(trace.set_span_in_context(span.span))

    def deactivate(self, token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]  # the Token activate() returned; opaque to Engine

    def drain(self) -> list[dict[str, Any]]:
        return [to_wire(s) for s in self.buffer.drain()]

    def snapshot(self, span: Any) -> dict[str, Any]:
        return to_wire(span.span)

    def in_flight(self) -> list[OtelSpan]:
        return [OtelSpan(span, self.clock) for span in list(self.buffer.open.values())]

    def start_time(self, span: Any) -> int:
        start: int = span.span.start_time  # an ended SDK span of ours always has its start time
        return start

    def bridge_user_api(self) -> None:
        """User code calling the OpenTelemetry API joins our traces, unless it set its own provider."""
        if self._bridged:
            return
        self._bridged = True
        if type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider":
            trace.set_tracer_provider(self.provider)
