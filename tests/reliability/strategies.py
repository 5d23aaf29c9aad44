"""Hypothesis strategies for hostile input: JSON-shaped junk, trace headers that almost parse, mutated AWS events.

Lambda events are JSON, so "arbitrary" here means any JSON value (no NaN: JSON has none, and a
handler's result must compare equal to itself). Trace headers are drawn both from free text and
from near-misses of the real formats, which is where parsers break.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import strategies as st

from tests.conftest import all_event_names, load_event

HEX = "0123456789abcdef"
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False), st.text(max_size=40))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=25)
#: Smaller junk, for places that draw many values per case (cheaper to generate, as hostile).
SMALL_JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)


def _hex(min_size: int, max_size: int, alphabet: str = HEX + "ABCDEFxyz-") -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size)


TRACEPARENTS = st.one_of(
    st.text(max_size=80),
    st.builds(lambda v, t, s, f, extra: "-".join([v, t, s, f, *extra]), _hex(0, 3), _hex(30, 34), _hex(14, 18),
              _hex(1, 3), st.lists(_hex(0, 4), max_size=2)),
    st.builds(lambda t, s: f"00-{t}-{s}-01", st.sampled_from(["0" * 32, "f" * 32, "5759e988bd862e3fe1be46a994272793"]),
              st.sampled_from(["0" * 16, "53995c3f42cd8ad8"])),
    st.builds(lambda pad, body: pad + body + pad, st.sampled_from(["", " ", "\t", "\n", "\x00"]),
              st.just("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")),
)
XRAY_HEADERS = st.one_of(
    st.text(max_size=120),
    st.builds(lambda root_v, epoch, rnd, parent, sampled, sep, extra: sep.join(
        [f"Root={root_v}-{epoch}-{rnd}", f"Parent={parent}", f"Sampled={sampled}", *extra]),
        _hex(0, 2), _hex(7, 9), _hex(23, 25), _hex(15, 17), st.text(max_size=2), st.sampled_from([";", "; ", ",", ""]),
        st.lists(st.text(max_size=20), max_size=3)),
    st.text(alphabet="Root=1-;Parent=Sampled=Self=Lineage=:abcdef0123456789 ", max_size=200),
)
HEADER_NAMES = st.one_of(st.sampled_from(["traceparent", "TraceParent", "tracestate", "X-Amzn-Trace-Id",
                                          "x-amzn-trace-id", "AWSTraceHeader", "Authorization", "cookie"]),
                         st.text(max_size=20))
HEADER_VALUES = st.one_of(TRACEPARENTS, XRAY_HEADERS, JSON)
HEADERS = st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=6)
EVENT_NAMES = all_event_names()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A real AWS event fixture with some of its values (headers, attributes, ids, bodies) replaced by junk."""
    event = copy.deepcopy(load_event(draw(st.sampled_from(EVENT_NAMES))))
    paths = _paths(event)
    for _ in range(draw(st.integers(1, 4))):
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _set(event, path, draw(st.one_of(HEADER_VALUES, HEADERS, JSON)))
        paths = _paths(event)
    if isinstance(event, dict) and draw(st.booleans()):
        _carriers(draw, event)
    return event


def _carriers(draw: st.DrawFn, event: dict[str, Any]) -> None:
    """Junk, in the right shape, in every place a trigger reads trace context from."""
    for key in ("headers", "multiValueHeaders"):
        if key in event:
            event[key] = draw(HEADERS)
    records = event.get("Records")
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):
            continue
        if "messageAttributes" in record:  # SQS
            record["messageAttributes"] = {name: {"stringValue": value, "dataType": "String"}
                                           for name, value in draw(HEADERS).items()}
            attributes = record.get("attributes")
            record["attributes"] = {**(attributes if isinstance(attributes, dict) else {}),
                                    "AWSTraceHeader": draw(XRAY_HEADERS)}
        if isinstance(record.get("Sns"), dict):  # SNS
            record["Sns"]["MessageAttributes"] = {name: {"Type": "String", "Value": value}
                                                  for name, value in draw(HEADERS).items()}
        if isinstance(record.get("body"), str) and draw(st.booleans()):  # SNS envelope / EventBridge inside SQS
            record["body"] = draw(st.one_of(st.text(max_size=60), JSON.map(_json_text)))
    if isinstance(event.get("detail"), dict):  # EventBridge
        event["detail"]["_hoptrace"] = draw(st.one_of(JSON, st.fixed_dictionaries({"traceparent": TRACEPARENTS})))
    if "clientContext" in event or "headers" not in event:
        event["headers"] = draw(HEADERS)


def _json_text(value: Any) -> str:
    return json.dumps(value)


EVENTS = st.one_of(JSON, mutated_events())


def scaled(cases: dict[str, int]) -> dict[str, int]:
    """Cases per property: CI's numbers, times `HOPTRACE_FUZZ_SCALE` for a longer hunt (e.g. 10)."""
    scale = float(os.environ.get("HOPTRACE_FUZZ_SCALE", "1"))
    return {name: max(1, int(count * scale)) for name, count in cases.items()}
