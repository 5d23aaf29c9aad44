"""The layer never writes a line that can hurt the collector: valid UTF-8, strict JSON, bounded values and output.

Each class of hostile value a handler can hand to its spans — lone surrogates, NaN/Infinity, deep
nesting, oversized output — goes through the real wrapper (or, for many spans, `hoptrace.output.lines`
which every engine prints through), and the line must decode with a strict parser while the
handler's result and exceptions pass through untouched.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from opentelemetry import trace

from hoptrace import output, semconv, wire
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import by_name, decode_output, invocation_span, run

HOSTILE_TEXT = ["\ud800", "tail \udfff", "a\udc80b", "\udbff\udfff ok pair then lone \ud800", "é\ud83d"]


def _strict(line: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"non-strict JSON constant {constant}")

    return json.loads(line, parse_constant=refuse)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if wire.is_span_line(line)]


@pytest.mark.parametrize("hostile", HOSTILE_TEXT)
def test_lone_surrogates_anywhere_become_valid_utf8_with_a_marker(hostile: str) -> None:
    # GIVEN a handler whose span names, attribute keys and values, events and exception hold a lone surrogate
    error = ValueError(f"bad body {hostile}")

    def handler(event: Any, context: Any) -> Any:
        with trace.get_tracer("app").start_as_current_span(f"work {hostile}") as span:
            span.set_attribute("body", hostile)
            span.set_attribute(f"key {hostile}", "v")
            span.set_attribute("list", [hostile, "ok"])
            span.add_event(f"event {hostile}", {"detail": hostile})
        raise error

    # WHEN it runs traced
    _, raised, spans, text = run(wrap(handler), load_event("apigateway_v2"), LambdaContext())
    # THEN the handler's exception passes through as the very object, and every line is valid UTF-8 …
    assert raised is error
    text.encode("utf-8")
    assert "\ufffd" in text.encode().decode("unicode_escape", "replace") or "\\ufffd" in text
    # … decodes strictly, keeps every span (the surrogates marked), and counts the repair
    work = next(s for s in spans if s["name"].startswith("work"))
    assert "\ufffd" in work["name"] and "\ufffd" in work["attributes"]["body"]
    assert any("\ufffd" in key for key in work["attributes"])
    assert "\ufffd" in invocation_span(spans)["status"]["message"]
    payloads = [_strict(line[len(wire.PREFIX):]) for line in _lines(text)]
    assert any((p.get("health") or {}).get("errors", {}).get("scrub.unencodable_text") for p in payloads)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_attributes_are_written_as_strict_json(value: float) -> None:
    def handler(event: Any, context: Any) -> Any:
        with trace.get_tracer("app").start_as_current_span("ratio") as span:
            span.set_attribute("ratio", value)
            span.set_attribute("ratios", [1.5, value])
        return {"ok": True}

    result, raised, spans, text = run(wrap(handler), {}, LambdaContext())
    assert result == {"ok": True} and raised is None
    for line in _lines(text):
        _strict(line[len(wire.PREFIX):])
    attributes = by_name(spans, "ratio")["attributes"]
    assert attributes["ratio"] in {"NaN", "Infinity", "-Infinity"}
    assert attributes["ratios"][0] == 1.5 and isinstance(attributes["ratios"][1], str)


@pytest.mark.usefixtures("engine")
def test_integers_too_long_to_write_cost_only_themselves() -> None:
    # GIVEN a handler whose spans hold integers past Python's 4,300-digit limit for writing one as text,
    # in attributes, a list, an event and a span's own end time (an OpenTelemetry API caller may pass any int)
    def handler(event: Any, context: Any) -> Any:
        trace.get_current_span().set_attribute("huge", 10**5000)
        trace.get_current_span().set_attribute("fine", 10**30)
        with trace.get_tracer("app").start_as_current_span("child") as span:
            span.set_attribute("ids", [1, -(10**4400)])
            span.add_event("counted", {"total": 10**6000})
        trace.get_tracer("app").start_span("late").end(end_time=10**5000)
        return {"ok": True}

    result, raised, spans, text = run(wrap(handler), {}, LambdaContext())
    # THEN the handler's result passes, and the line is written with every span, each huge integer a marker
    assert result == {"ok": True} and raised is None
    assert invocation_span(spans)["attributes"]["huge"] == "[integer of 16610 bits, too long to write]"
    assert invocation_span(spans)["attributes"]["fine"] == 10**30
    child = by_name(spans, "child")
    assert child["attributes"]["ids"] == [1, "[integer of 14617 bits, too long to write]"]
    assert child["events"][0]["attributes"]["total"] == "[integer of 19932 bits, too long to write]"
    assert by_name(spans, "late")["end"] == 2**63 - 1
    payloads = [_strict(line[len(wire.PREFIX):]) for line in _lines(text)]
    assert sum((p.get("health") or {}).get("errors", {}).get("scrub.huge_integer", 0) for p in payloads) == 3


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("shape", ["list", "dict", "json_string", "cycle"])
def test_payload_capture_bounds_depth_whatever_the_event_holds(shape: str) -> None:
    # GIVEN payload capture on and an event nested 10,000 levels (or a cycle, or a JSON string that deep)
    deep: Any = _deep(10_000)
    if shape == "dict":
        deep = {"a": deep}
    elif shape == "json_string":
        deep = "[" * 10_000 + "]" * 10_000
    elif shape == "cycle":
        deep = {"name": "loop"}
        deep["self"] = deep
    event = {"password": "p", "body": deep}

    def handler(received: Any, context: Any) -> Any:
        return received

    # WHEN it runs traced / THEN the handler gets (and returns) the very event, and the captures are bounded
    result, raised, spans, _ = run(wrap(handler, capture_payload=True), event, LambdaContext())
    assert raised is None and result is event
    attributes = invocation_span(spans)["attributes"]
    assert len(attributes[semconv.EVENT_PAYLOAD]) <= 4096 + 64 and "[REDACTED]" in attributes[semconv.EVENT_PAYLOAD]
    assert semconv.RESPONSE_PAYLOAD in attributes


def _span(index: int, parent: str | None, events: int = 0, attributes: int = 0, size: int = 4096) -> dict[str, Any]:
    return {"trace_id": "ab" * 16, "span_id": f"{index + 1:016x}", "parent_id": parent, "name": f"span {index}",
            "kind": "internal", "start": 1_700_000_000_000_000_000, "end": 1_700_000_000_000_000_001,
            "status": {"code": "unset"},
            "attributes": {f"a{i}": "x" * size for i in range(attributes)},
            "events": [{"name": f"e{e}", "time": 1_700_000_000_000_000_000,
                        "attributes": {f"k{i}": "y" * size for i in range(32)}} for e in range(events)]}


@pytest.mark.parametrize(("spans", "events", "attributes"), [(1, 64, 32), (20, 64, 0), (400, 0, 8), (5000, 0, 0)])
def test_one_invocations_output_is_capped_keeping_every_root_and_saying_what_went(
        spans: int, events: int, attributes: int) -> None:
    # GIVEN an invocation whose spans would print megabytes (64 events x 32 attributes x 4 KiB and more)
    root = _span(0, None, events, attributes)
    root["attributes"][semconv.FAAS_INVOCATION_ID] = "req-1"
    children = [_span(i, root["span_id"], events, attributes) for i in range(1, spans)]
    limits = output.OutputLimits(max_bytes=512 * 1024)
    # WHEN its lines are rendered
    lines = output.lines([*children, root], {"service.name": "svc"}, None, limits)
    # THEN the output holds to the budget, every line decodes, the root span is there and says what was dropped
    assert sum(len(line) for line in lines) <= limits.max_bytes + len(lines) * 1024
    decoded, payloads = decode_output("\n".join(lines))
    written_root = next(s for s in decoded if s["parent_id"] is None)
    assert written_root["span_id"] == root["span_id"]
    assert payloads[0]["health"]["errors"]["output.capped"] == 1
    marked = [s for s in decoded if s["attributes"].get(semconv.OUTPUT_TRUNCATED)]
    assert marked and written_root["name"] == "span 0"
    if spans == 5000:  # skeletons alone pass the budget: child spans go, counted on the root
        assert written_root["attributes"][semconv.OUTPUT_DROPPED_SPANS] > 0
    else:
        assert len(decoded) == spans  # structure kept: every span, only content cut


def test_output_under_the_budget_is_written_unchanged() -> None:
    spans = [_span(0, None, 2, 3, 100)]
    expected = wire.encode(json.loads(json.dumps(spans)), {"service.name": "svc"})
    assert output.lines(spans, {"service.name": "svc"}) == expected


def test_non_scalar_attribute_values_from_any_engine_become_bounded_json_text() -> None:
    span = _span(0, None)
    span["attributes"] = {"deep": {"a": _deep(5000)}, "obj": object(), "nested": [[1, 2], {"x": 1}],
                          "token": ["t1", "t2"], "nan": math.nan}
    lines = output.lines([span], {"service.name": "svc"})
    decoded, _ = decode_output("\n".join(lines))
    attributes = decoded[0]["attributes"]
    assert "[TOO DEEP]" in attributes["deep"] and isinstance(attributes["obj"], str)
    assert attributes["token"] == "[REDACTED]" and attributes["nan"] == "NaN"
    _strict(lines[0][len(wire.PREFIX):])
