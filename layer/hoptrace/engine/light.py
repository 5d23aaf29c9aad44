"""The default engine: slotted spans, the current span in a contextvar, wire dicts straight from the data.

Stdlib only, so a function pays no OpenTelemetry import at cold start. Attributes are kept as
the plain values the wire format carries, with only the checks it needs: strings cut at
`max_attribute_length`, values that are not a primitive or a list of primitives dropped (as the
OpenTelemetry SDK drops them), at most 128 per span. Sampling is OpenTelemetry's parent-based
trace-id ratio, so both engines keep and drop the same traces.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from random import getrandbits
from typing import Any

from hoptrace.config import Config
from hoptrace.engine import CURRENT, LinkTo, carried_sampled, exception_attributes, sample_bound
from hoptrace.engine.ids import Ids
from hoptrace.engine.resource import resource_attributes
from hoptrace.wire import BasedAttributes

MAX_ATTRIBUTES = 128
MAX_EVENTS = 64
MAX_EVENT_ATTRIBUTES = 32
MAX_LINKS = 128
_PRIMITIVES = (str, bool, int, float)


class Span:
    """One span, recorded as the plain data its wire dict is made of."""

    __slots__ = ("_engine", "attributes", "end_ns", "events", "kind", "links", "name", "parent_hex", "parent_id",
                 "sampled", "span_hex", "span_id", "start_ns", "status_code", "status_message", "trace_hex", "trace_id")

    def __init__(self, engine: LightEngine, name: str, kind: str, trace_id: int, trace_hex: str, span_id: int,
                 parent_id: int | None, parent_hex: str | None, sampled: bool, start_ns: int) -> None:
        self._engine = engine
        self.name = name
        self.kind = kind
        self.trace_id = trace_id
        self.trace_hex = trace_hex  # the ids as the wire and `traceparent` write them: made once, a child
        self.span_id = span_id      # takes its trace's and its parent's from the parent
        self.span_hex = span_id.to_bytes(8, "big").hex()
        self.parent_id = parent_id
        self.parent_hex = parent_hex
        self.sampled = sampled
        self.start_ns = start_ns
        self.end_ns: int | None = None
        self.attributes: dict[str, Any] = {}
        self.events: list[dict[str, Any]] | None = None
        self.links: list[dict[str, Any]] | None = None
        self.status_code = "unset"
        self.status_message = ""

    def traceparent(self) -> str:
        return f"00-{self.trace_hex}-{self.span_hex}-{'01' if self.sampled else '00'}"

    def set_attribute(self, key: str, value: Any) -> None:
        if self.end_ns is not None or not self.sampled:
            return
        if type(value) is str:
            if len(value) > self._engine.max_length:
                value = value[:self._engine.max_length]
        elif type(value) not in _PRIMITIVES:
            value = self._engine.clean(value)
            if value is None:
                return
        attributes = self.attributes
        if key in attributes or len(attributes) >= MAX_ATTRIBUTES:
            if type(attributes) is BasedAttributes:
                attributes.base = None  # an item changes or goes: they no longer begin with their base's
            if key not in attributes:
                del attributes[next(iter(attributes))]  # the SDK's rule: the oldest makes room
        attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """`set_attribute` for each; in one step (`clean_mapping`'s) when no attribute has to make room."""
        if self.end_ns is not None or not self.sampled:
            return
        own = self.attributes
        if len(own) + len(attributes) > MAX_ATTRIBUTES:  # the oldest make room, one by one
            for key, value in attributes.items():
                self.set_attribute(key, value)
            return
        if type(own) is BasedAttributes and not own.keys().isdisjoint(attributes):
            own.base = None  # an item changes: they no longer begin with their base's
        max_length = self._engine.max_length
        for key, value in attributes.items():  # `set_attribute`'s checks, without a call per attribute
            if type(value) is str:
                if len(value) > max_length:
                    value = value[:max_length]
            elif type(value) not in _PRIMITIVES:
                value = self._engine.clean(value)
                if value is None:
                    continue
            own[key] = value

    def set_status(self, code: str, message: str = "") -> None:
        if self.end_ns is not None or self.status_code == "ok":
            return  # OpenTelemetry's rule: an OK status is final
        self.status_code = code
        self.status_message = message if code == "error" else ""

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None, time_ns: int | None = None) -> None:
        if self.end_ns is not None or not self.sampled:
            return
        events = self.events
        if events is None:
            events = self.events = []
        elif len(events) >= MAX_EVENTS:
            del events[0]
        cleaned = self._engine.clean_mapping(attributes, MAX_EVENT_ATTRIBUTES) if attributes else {}
        events.append({"name": name, "time": time_ns if time_ns is not None else self._engine.clock(),
                       "attributes": cleaned})

    def record_exception(self, error: BaseException, *, escaped: bool = False) -> None:
        if self.sampled and self.end_ns is None:
            self.add_event("exception", exception_attributes(error, escaped))

    def end(self, end_ns: int | None = None) -> None:
        if self.end_ns is not None:
            return
        self.end_ns = end_ns if end_ns is not None else self._engine.clock()
        if self.sampled:
            engine = self._engine
            engine.ended.append(self)
            engine.open.pop(self.span_id, None)

    def to_wire(self) -> dict[str, Any]:
        status: dict[str, Any] = {"code": self.status_code}
        if self.status_message:
            status["message"] = self.status_message
        out: dict[str, Any] = {
            "trace_id": self.trace_hex,
            "span_id": self.span_hex,
            "parent_id": self.parent_hex,
            "name": self.name,
            "kind": self.kind,
            "start": self.start_ns,
            "end": self.end_ns,
            "status": status,
            "attributes": self.attributes,
        }
        if self.events:
            out["events"] = self.events
        if self.links:
            out["links"] = self.links
        return out


class _Prepared(dict[str, Any]):
    """Attributes `engine` has cleaned already (`prepared_attributes`): a span copies them as they are."""

    __slots__ = ("engine",)
    engine: LightEngine


class LightEngine:
    """Spans, the current one, and the buffer of ended spans for one process."""

    def __init__(self, config: Config, *, ids: Ids | None = None, clock: Callable[[], int] | None = None) -> None:
        self.ids = ids or Ids()
        # The default source's span ids made in `start_span` itself (as `propagation.new_span_id` makes them):
        # no call per span; another source (tests' fixed ids) is asked.
        self._bits: Callable[[int], int] | None = getrandbits if type(self.ids) is Ids else None
        self.clock = clock or time.time_ns
        self.max_length = config.max_attribute_length
        self.resource = resource_attributes(config)
        self.ended: list[Span] = []
        self.open: dict[int, Span] = {}  # sampled spans started and not ended: what a timeout interrupts
        self._bound = sample_bound(config.sample_rate)
        self._current: ContextVar[Span | None] = ContextVar("hoptrace_current_span", default=None)
        self.current_own = self._current.get
        self.current: Callable[[], Any] = self.current_own  # the bridge's, once the function uses the OpenTelemetry API
        self.bridge: Any = None
        self._bridge_checked = False

    def start_span(self, name: str, kind: str, *, parent: Any = CURRENT, attributes: Mapping[str, Any] | None = None,
                   links: Sequence[LinkTo] = (), start_ns: int | None = None) -> Span:
        if parent is CURRENT:
            parent = self.current()
        bits = self._bits
        span_id = (bits(64) or 1) if bits is not None else self.ids.span_id()
        if type(parent) is Span:  # the common case first: a child of one of ours
            span = Span(self, name, kind, parent.trace_id, parent.trace_hex, span_id, parent.span_id,
                        parent.span_hex, parent.sampled, start_ns or self.clock())
        elif parent is None:
            trace_id = self.ids.trace_id()
            span = Span(self, name, kind, trace_id, trace_id.to_bytes(16, "big").hex(), span_id, None, None,
                        (trace_id & 0xFFFFFFFFFFFFFFFF) < self._bound, start_ns or self.clock())
        else:  # a carried context (an invocation's parent); an X-Ray Root without Parent: a root span of that trace
            trace_id, parent_id = parent.trace_id, parent.span_id
            sampled = carried_sampled(parent, self._bound) if parent_id is not None else (
                (trace_id & 0xFFFFFFFFFFFFFFFF) < self._bound)  # a Root alone: the trace-id ratio decides
            span = Span(self, name, kind, trace_id, trace_id.to_bytes(16, "big").hex(), span_id, parent_id,
                        parent_id.to_bytes(8, "big").hex() if parent_id is not None else None, sampled,
                        start_ns or self.clock())
        if span.sampled:
            self.open[span.span_id] = span
        if attributes and span.sampled:
            if type(attributes) is _Prepared and attributes.engine is self:
                own = span.attributes = BasedAttributes(attributes)
                own.base = attributes
            else:
                span.attributes = self.clean_mapping(attributes, MAX_ATTRIBUTES)
        if links and span.sampled:
            span.links = [{"trace_id": f"{t:032x}", "span_id": f"{s:016x}",
                           "attributes": self.clean_mapping(a, MAX_EVENT_ATTRIBUTES) if a else {}}
                          for t, s, a in links[:MAX_LINKS]]
        return span

    def prepared_attributes(self, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        prepared = _Prepared(self.clean_mapping(attributes, MAX_ATTRIBUTES))
        prepared.engine = self
        return prepared

    def activate(self, span: Any) -> object:
        token = self._current.set(span)
        bridge = self.bridge
        return (token, bridge.attach(span)) if bridge is not None else token

    def deactivate(self, token: Any) -> None:
        if type(token) is tuple:
            token, bridged = token
            self.bridge.detach(bridged)
        self._current.reset(token)

    def drain(self) -> list[dict[str, Any]]:
        ended, self.ended = self.ended, []
        self.open.clear()  # what is still open at the invocation's end was never ended: do not keep it
        return list(map(Span.to_wire, ended))  # no comprehension: its frame is one more call per invocation

    def in_flight(self) -> list[Span]:
        return list(self.open.values())

    def snapshot(self, span: Any) -> dict[str, Any]:
        wire: dict[str, Any] = span.to_wire()
        wire["attributes"] = dict(wire["attributes"])
        return wire

    def start_time(self, span: Any) -> int:
        start: int = span.start_ns  # one of our Spans: the engine protocol can't say which engine made it
        return start

    def bridge_user_api(self) -> None:
        """Spans the function makes through `opentelemetry-api` land in our trace (see `engine.bridge`).

        Called at init and at each invocation's start: one dict lookup until the function's code
        imports OpenTelemetry, then once more to register the bridge."""
        if self._bridge_checked or "opentelemetry.trace" not in sys.modules:
            return
        self._bridge_checked = True
        from hoptrace.engine.bridge import install

        bridge = install(self)
        if bridge is not None:
            self.bridge = bridge
            self.current = bridge.current

    def clean(self, value: Any) -> Any:
        """A non-string value as the wire can carry it, or None to drop it (the SDK's rules)."""
        if type(value) in _PRIMITIVES:
            return value
        if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
            items = list(value)
            kinds = {type(item) for item in items if item is not None}
            if len(kinds) > 1 or not kinds <= set(_PRIMITIVES):
                return None
            limit = self.max_length
            return [item[:limit] if type(item) is str else item for item in items]
        if isinstance(value, bytes):
            try:
                return value.decode()[:self.max_length]
            except UnicodeDecodeError:
                return None
        if isinstance(value, _PRIMITIVES):  # subclasses (enums, numpy-like) as their base value
            for base in _PRIMITIVES:
                if isinstance(value, base):
                    return base(value)
        return None

    def clean_mapping(self, attributes: Mapping[str, Any], limit: int) -> dict[str, Any]:
        """`attributes` as `set_attribute` would keep them, at most `limit` (the newest)."""
        out: dict[str, Any] = {}
        max_length = self.max_length
        for key, value in attributes.items():
            if type(value) is str:
                if len(value) > max_length:
                    value = value[:max_length]
            elif type(value) not in _PRIMITIVES:
                value = self.clean(value)
                if value is None:
                    continue
            out[key] = value
        if len(out) > limit:
            out = dict(list(out.items())[-limit:])
        return out
