"""Fuzzing the layer's input side: trigger detection, carriers, header parsers, and a traced handler.

Everything here reads data an attacker or a broken producer controls (HTTP headers, message
attributes, EventBridge details, client contexts). The parsers are called bare — an exception in
them is a bug even though the wrapper would swallow it — and the traced handler must behave
exactly like the bare one while writing only valid wire lines, with no internal failure counted.
The number of cases per property is `max_examples` below (the README's table quotes them).
"""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hoptrace import health, wire
from hoptrace.carriers import ContextFinder, sns_attribute_values, sqs_attribute_values
from hoptrace.config import Config
from hoptrace.propagation import format_traceparent, format_xray, parse_traceparent, parse_xray
from hoptrace.triggers import detect
from hoptrace.wrapper import wrap
from tests.conftest import ClientContext, LambdaContext
from tests.layer.spans import decode_output, invocation_span
from tests.reliability.strategies import EVENTS, HEADERS, JSON, TRACEPARENTS, XRAY_HEADERS, scaled

# Cases per property in CI (about 12 s here); HOPTRACE_FUZZ_SCALE=10 runs ten times as many.
CASES = scaled({"parsers": 1000, "carriers": 300, "detect": 500, "handler": 300})


def fuzz(kind: str) -> settings:
    """The settings of one property: its number of cases, no per-case deadline on a shared machine."""
    return settings(max_examples=CASES[kind], deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
CONFIGS = (Config(), Config(capture_payload=True, redacted_keys=Config().redacted_keys | {"card"}))


@fuzz("parsers")
@given(st.one_of(TRACEPARENTS, XRAY_HEADERS, JSON))
def test_header_parsers_never_raise_and_what_they_accept_round_trips(value: Any) -> None:
    for parse, fmt in ((parse_traceparent, format_traceparent), (parse_xray, format_xray)):
        carried, problem = parse(value)
        assert (carried is None) != (problem is None) or (carried is None and problem is None)
        if carried is not None:
            assert 0 < carried.trace_id < 2**128 and (carried.span_id is None or 0 < carried.span_id < 2**64)
            if carried.span_id is not None:  # what we accept, we can write back, and read again the same
                again, _ = parse(fmt(carried.trace_id, carried.span_id, bool(carried.sampled)))
                assert again is not None and (again.trace_id, again.span_id) == (carried.trace_id, carried.span_id)
        else:
            assert isinstance(problem, str) and len(problem) < 300  # the reason is recorded on the span: bounded


@fuzz("carriers")
@given(HEADERS, JSON, JSON)
def test_carriers_never_raise(headers: dict[str, Any], sqs_attributes: Any, sns_attributes: Any) -> None:
    finder = ContextFinder()
    finder.offer_mapping(headers, "headers")
    finder.offer_mapping(sqs_attribute_values(sqs_attributes), "sqs")
    finder.offer_mapping(sns_attribute_values(sns_attributes), "sns")
    assert finder.found is None or finder.found.trace_id > 0
    assert all(isinstance(p, str) for p in finder.problems)


@fuzz("detect")
@given(EVENTS, st.sampled_from(CONFIGS))
def test_trigger_detection_never_raises_on_any_event(event: Any, config: Config) -> None:
    invocation = detect(copy.deepcopy(event), LambdaContext(), config)
    assert isinstance(invocation.name, str) and invocation.kind in wire.KINDS
    assert all(isinstance(p, str) for p in invocation.problems)
    json.dumps(invocation.attributes)  # attributes stay JSON-serialisable for the wire


# Found by this fuzzing and fixed in the layer: kept as plain regression tests.
def test_scheduled_event_with_a_list_as_source_is_not_an_error() -> None:
    # A list is no EventBridge source: the event is read as a generic EventBridge event, with no problem
    # recorded and the odd source kept as text (the fix: `source` was once hashed, and detection crashed).
    event = {"detail-type": "Scheduled Event", "source": ["aws.events"], "detail": {}}
    invocation = detect(event, LambdaContext(), Config())
    assert invocation.problems == []
    assert invocation.attributes["hoptrace.trigger"] == "eventbridge"
    assert invocation.attributes["hoptrace.eventbridge.source"] == "['aws.events']"


def test_http_api_event_with_a_non_string_query_is_not_an_error() -> None:
    event = {"version": "2.0", "rawQueryString": ["a=1"], "requestContext": {"http": {"method": "GET"}}}
    assert detect(event, LambdaContext(), Config()).name


def echo(event: Any, context: Any) -> Any:
    """A user handler whose result depends on the whole event (and its records, iterated)."""
    records = event.get("Records") if isinstance(event, dict) else None
    seen = [json.dumps(r, sort_keys=True) for r in records] if isinstance(records, list) else None
    return {"statusCode": 200, "body": json.dumps({"event": event, "records": seen}, sort_keys=True)}


CONTEXTS = st.one_of(st.just(None), st.builds(LambdaContext),
                     st.builds(lambda custom: LambdaContext(client_context=ClientContext(custom=custom)),
                               st.one_of(HEADERS, JSON)))


@pytest.mark.usefixtures("engine")  # once per span engine: both must hold
@fuzz("handler")
@given(EVENTS, CONTEXTS, st.sampled_from(CONFIGS))
def test_traced_handler_behaves_like_the_bare_one_and_writes_valid_lines(event: Any, context: Any,
                                                                          config: Config) -> None:
    health.clear()
    bare = echo(copy.deepcopy(event), context)
    out = io.StringIO()
    with redirect_stdout(out):
        traced = wrap(echo, config)(copy.deepcopy(event), context)
    # THEN the handler ran and returned exactly what it returns bare
    assert traced == bare
    # AND the output is valid wire format (decode_output fails on any problem) with one invocation span
    spans, payloads = decode_output(out.getvalue())
    invocation_span(spans)
    # AND nothing inside hoptrace failed quietly (a swallowed exception would be counted here)
    assert not any("health" in p for p in payloads) and health.drain() == {}
