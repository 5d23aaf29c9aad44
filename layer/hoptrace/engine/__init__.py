"""The seam between the layer and a span engine: what the wrapper, the hooks and the watchdog may ask.

Two engines stand behind it and write the same lines: `light` (the default, stdlib only, so a
function pays no OpenTelemetry import) and `otel` (the OpenTelemetry SDK, for teams that want
SDK processors or exporters; `HOPTRACE_ENGINE=otel`). Everything outside `hoptrace.engine`
talks to an `Engine` and a `SpanRef` only, so nothing else imports OpenTelemetry.

This module itself imports nothing from OpenTelemetry and nothing heavy: it is on the
default path's import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from hoptrace import semconv

if TYPE_CHECKING:
    from hoptrace.config import Config
    from hoptrace.propagation import Carried

Kind = Literal["internal", "server", "client", "producer", "consumer"]  # the wire's kinds
AttributeValue = str | bool | int | float | Sequence[str | bool | int | float]
LinkTo = tuple[int, int, Mapping[str, Any]]  # trace id, span id, attributes
CURRENT: Any = object()  # `parent=CURRENT`: under whatever span is current (the default)
ENGINES = ("light", "otel")


class SpanRef(Protocol):
    """A span one engine made; ids are ints, times ns since the epoch."""

    trace_id: int
    span_id: int
    sampled: bool

    def set_attribute(self, key: str, value: Any) -> None: ...
    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """`set_attribute` for each, in one call (an SDK call's response attributes)."""
        ...
    def set_status(self, code: Literal["ok", "error"], message: str = "") -> None: ...
    def traceparent(self) -> str:
        """This span as the W3C `traceparent` a call it makes carries (`propagation.format_traceparent`)."""
        ...
    def record_exception(self, error: BaseException, *, escaped: bool = False) -> None: ...
    def end(self, end_ns: int | None = None) -> None: ...


class Engine(Protocol):
    resource: dict[str, Any]
    clock: Callable[[], int]  # ns since the epoch; tests pass a fixed one

    def start_span(self, name: str, kind: Kind, *, parent: Any = CURRENT,
                   attributes: Mapping[str, Any] | None = None, links: Sequence[LinkTo] = (),
                   start_ns: int | None = None) -> SpanRef:
        """`parent`: a SpanRef, a `Carried` remote context, None for a new root, or CURRENT."""
        ...

    def prepared_attributes(self, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        """`attributes` to be handed to many `start_span` calls and never changed (an SDK call's fixed
        ones): the engine checks them here, once, so it need not at each span."""
        ...

    def current(self) -> SpanRef | None: ...
    def activate(self, span: SpanRef) -> object: ...
    def deactivate(self, token: object) -> None: ...
    def drain(self) -> list[dict[str, Any]]: ...
    def snapshot(self, span: SpanRef) -> dict[str, Any]: ...
    def in_flight(self) -> Sequence[SpanRef]:
        """Sampled spans started and not ended yet, oldest first (for the timeout watchdog)."""
        ...
    def start_time(self, span: SpanRef) -> int: ...
    def bridge_user_api(self) -> None: ...


def load(config: Config, *, ids: Any = None, clock: Callable[[], int] | None = None) -> Engine:
    """The engine `config.engine` names, built once at init; `ids`/`clock` are for tests."""
    if config.engine == "otel":
        from hoptrace.engine.otel import OtelEngine

        return OtelEngine(config, ids=ids, clock=clock)
    from hoptrace.engine.light import LightEngine

    return LightEngine(config, ids=ids, clock=clock)


def sample_bound(rate: float) -> int:
    """Trace ids whose low 64 bits fall below this are sampled (OpenTelemetry's TraceIdRatioBased)."""
    return round(rate * (2**64))


def carried_sampled(carried: Carried, bound: int) -> bool:
    """A W3C flag is honoured; an X-Ray `Sampled=0` is not a decision (Lambda sets it when X-Ray
    is off), so the trace-id ratio decides, the same way on every hop."""
    if carried.sampled is not None:
        return carried.sampled
    return (carried.trace_id & 0xFFFFFFFFFFFFFFFF) < bound


def exception_attributes(error: BaseException, escaped: bool) -> dict[str, str]:
    """The `exception` event's attributes, as OpenTelemetry's SDK writes them (both engines use this)."""
    import traceback  # only paid for by a failing invocation

    try:
        message = str(error)
    except Exception:  # a broken __str__ of the user's exception is still their exception
        message = "<unprintable>"
    module = type(error).__module__
    qualname = type(error).__qualname__
    return {
        semconv.EXCEPTION_TYPE: f"{module}.{qualname}" if module and module != "builtins" else qualname,
        semconv.EXCEPTION_MESSAGE: message,
        semconv.EXCEPTION_STACKTRACE: "".join(traceback.format_exception(error)),
        semconv.EXCEPTION_ESCAPED: str(escaped),
    }
