"""What the layer prints for one invocation: scrubbed, held to a byte budget, encoded as wire lines.

Engine-free (wire dicts in, lines out), so every engine and the timeout watchdog print through
`lines`. One invocation could otherwise print without bound (64 events x 32 attributes x 4 KiB is
~8 MiB for one span), and the collector refuses a batch over 32 MiB, so one such invocation would
cost the spans beside it. Each invocation's output is held to `max_bytes`
(`HOPTRACE_MAX_OUTPUT_BYTES`, 1 MiB by default). Every span's structure (ids, parent, name, kind,
times, status) is kept; what goes, biggest spans first, step by step until the output fits:

1. events past the first `KEEP_EVENTS`;
2. long attribute values (span, event and link attributes cut to `CUT_CHARS`);
3. every remaining event;
4. attribute values cut harder (`CUT_HARD_CHARS`);
5. last, whole child spans, biggest first (never a root or an invocation's own span).

Each span that lost something says so (`hoptrace.output.*` attributes), and the line's `health`
counts it (`output.capped`, `output.dropped_events`, `output.cut_attributes`, `output.dropped_spans`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from hoptrace import semconv, wire
from hoptrace.config import Config
from hoptrace.plain import Frozen
from hoptrace.scrub import scrub, scrub_texts

KEEP_EVENTS = 8
CUT_CHARS = 256
CUT_HARD_CHARS = 32
DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024


class OutputLimits(Frozen):
    """max_bytes: all lines of one invocation; max_attribute_chars: one string value; line_bytes: one line
    (CloudWatch Logs caps an event at 256 KiB); compress: each line's body deflated (hoptrace.wire_deflate)."""

    __slots__ = ("compress", "line_bytes", "max_attribute_chars", "max_bytes")
    _fields = ("max_bytes", "max_attribute_chars", "line_bytes", "compress")
    max_bytes: int
    max_attribute_chars: int
    line_bytes: int
    compress: bool

    def __init__(self, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, max_attribute_chars: int = 4096,
                 line_bytes: int = wire.MAX_LINE_BYTES, compress: bool = False) -> None:
        self._assign(locals())


def limits(config: Config) -> OutputLimits:
    return OutputLimits(config.max_output_bytes, config.max_attribute_length, compress=config.compress_lines)


DEFAULT_LIMITS = limits(Config())  # the defaults; a wrapped handler passes its own config's


def lines(spans: list[dict[str, Any]], resource: dict[str, Any], health: dict[str, int] | None = None,
          limits: OutputLimits = DEFAULT_LIMITS) -> list[str]:
    """The lines to print for these finished wire spans (changed in place: scrubbed and capped)."""
    counts: Counter[str] = Counter.__new__(Counter)  # empty: Counter() runs two Python calls to fill nothing
    resource_json = _resource_json(resource, limits.max_attribute_chars, counts)
    texts, counts = scrub_texts(spans, limits.max_attribute_chars, counts=counts)
    if sum(map(len, texts)) > limits.max_bytes:
        spans[:], texts = cap(spans, texts, limits.max_bytes, counts)
    if health:
        counts.update(health)
    return wire.encode_texts(texts, resource, dict(counts) or None, limits.line_bytes, resource_json, limits.compress)


_RESOURCE: list[tuple[dict[str, Any], int, str]] = []  # the last resource, its limit, its JSON


def _resource_json(resource: dict[str, Any], max_chars: int, counts: Counter[str]) -> str:
    """The resource's scrubbed JSON, made once per resource: a function's resource is made at init and never
    changed after (the wrapper's `Tracing.resource`), and scrubbing and encoding it again was a quarter of a
    no-op invocation's cost; so was comparing it with a copy when its code and data are out of the CPU's
    caches, so the dict's identity alone names it (the dict is held here: its id cannot pass to another).
    It is scrubbed in place the first time; another resource (or limit) is scrubbed and encoded anew."""
    if _RESOURCE:
        seen, chars, text = _RESOURCE[0]
        if seen is resource and chars == max_chars:
            return text
    fixed = scrub([], resource, max_chars)
    counts.update(fixed)
    text = wire.resource_text(resource)
    _RESOURCE[:] = [(resource, max_chars, text)]
    return text


def cap(spans: list[dict[str, Any]], texts: list[str], max_bytes: int,
        counts: Counter[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Spans (and their texts) shrunk to fit `max_bytes` together, as the module docstring orders."""
    counts["output.capped"] += 1
    total = sum(map(len, texts))
    order = sorted(range(len(spans)), key=lambda i: -len(texts[i]))
    steps: tuple[Callable[[dict[str, Any]], tuple[str, int]], ...] = (
        _trim_events, _cut_attributes, _drop_events, _cut_attributes_hard)
    for step in steps:
        for index in order:
            if total <= max_bytes:
                break
            what, lost = step(spans[index])
            if lost:
                counts[f"output.{what}"] += lost
                _mark(spans[index], what, lost)
                text = wire.dumps_scrubbed(spans[index])
                total += len(text) - len(texts[index])
                texts[index] = text
    if total <= max_bytes:
        return spans, texts
    keep = [True] * len(spans)
    dropped = 0
    for index in order:
        if total <= max_bytes:
            break
        if not _is_root(spans[index]):
            keep[index] = False
            total -= len(texts[index])
            dropped += 1
    counts["output.dropped_spans"] += dropped
    kept = [i for i in range(len(spans)) if keep[i]]
    for index in kept:
        if _is_root(spans[index]) and dropped:
            _mark(spans[index], "dropped_spans", dropped)
            texts[index] = wire.dumps_scrubbed(spans[index])
            break
    return [spans[i] for i in kept], [texts[i] for i in kept]


def _is_root(span: dict[str, Any]) -> bool:
    attributes = span.get("attributes") or {}
    return span.get("parent_id") is None or semconv.FAAS_INVOCATION_ID in attributes or bool(
        attributes.get(semconv.PENDING))


_MARKS = {"dropped_events": semconv.OUTPUT_DROPPED_EVENTS, "cut_attributes": semconv.OUTPUT_CUT_ATTRIBUTES,
          "dropped_spans": semconv.OUTPUT_DROPPED_SPANS}


def _mark(span: dict[str, Any], what: str, lost: int) -> None:
    attributes = span.setdefault("attributes", {})
    attributes[semconv.OUTPUT_TRUNCATED] = True
    name = _MARKS[what]
    previous = attributes.get(name)
    attributes[name] = lost + (previous if type(previous) is int else 0)


def _trim_events(span: dict[str, Any]) -> tuple[str, int]:
    events = span.get("events") or []
    if len(events) <= KEEP_EVENTS:
        return "dropped_events", 0
    span["events"] = events[:KEEP_EVENTS]
    return "dropped_events", len(events) - KEEP_EVENTS


def _drop_events(span: dict[str, Any]) -> tuple[str, int]:
    events = span.pop("events", None) or []
    return "dropped_events", len(events)


def _cut_attributes(span: dict[str, Any], chars: int = CUT_CHARS) -> tuple[str, int]:
    cut = _cut(span.get("attributes"), chars)
    for key in ("events", "links"):
        for item in span.get(key) or ():
            cut += _cut(item.get("attributes"), chars)
    return "cut_attributes", cut


def _cut_attributes_hard(span: dict[str, Any]) -> tuple[str, int]:
    return _cut_attributes(span, CUT_HARD_CHARS)


def _cut(attributes: Any, chars: int) -> int:
    if not isinstance(attributes, dict):
        return 0
    cut = 0
    for name, value in attributes.items():
        if isinstance(value, str) and len(value) > chars + 8:
            attributes[name] = value[:chars] + "...[cut]"
            cut += 1
        elif isinstance(value, list) and len(str(value)) > chars + 8:
            attributes[name] = [v[:chars] if isinstance(v, str) else v for v in value[:8]]
            cut += 1
    return cut
