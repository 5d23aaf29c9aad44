"""Fuzzing the collector's decoder with arbitrary subscription payloads, against a store that already holds data.

Layers of junk, from the outside in: any JSON value as the event; random text or bytes as
`awslogs.data`; valid base64 of random bytes; valid base64 of gzip of random bytes; gzip of random
JSON; structurally valid documents whose log events are random text, random `HOPTRACE` lines,
near-valid span lines, split-line pieces and platform-like lines — mixed with valid span lines.

After every case: the handler returned (bad input is counted, never raised); the spans the store held
before are still exactly there, unchanged; the valid spans of the same batch were stored; the
database passes SQLite's own check and every trace summary counts exactly the spans stored for it.
"""

from __future__ import annotations

import base64
import gzip
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.collector_data import subscription_batches
from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import SpanRecord, Store, TraceFilter, open_store
from tests.reliability.strategies import JSON, SMALL_JSON, scaled

# Cases per property in CI (about 10 s here); HOPTRACE_FUZZ_SCALE=10 runs ten times as many.
CASES = scaled({"outer": 400, "documents": 400})
SpanKey = tuple[str, str]


class Fixture:
    """A store holding known-good spans, its ingestor, and a snapshot of those spans to compare against."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store: Store = open_store(f"sqlite:///{path}")
        self.ingestor = Ingestor(self.store)
        events, self.known_count = subscription_batches(80, seed=99)
        for event in events:
            self.ingestor.ingest(event)
        self.known = self._snapshot()
        assert len(self.known) == self.known_count

    def _snapshot(self) -> dict[SpanKey, SpanRecord]:
        return {(s.trace_id, s.span_id): s for t in self.store.list_traces(TraceFilter(limit=10_000))
                for s in self.store.get_trace(t.trace_id)}

    def check(self, expected: set[SpanKey]) -> None:
        """Known spans untouched, this batch's valid spans stored, the file sound, the summaries right."""
        for trace_id in {t for t, _ in self.known}:
            stored = {(s.trace_id, s.span_id): s for s in self.store.get_trace(trace_id)}
            assert {k: v for k, v in stored.items() if k in self.known} == {
                k: v for k, v in self.known.items() if k[0] == trace_id}
        for trace_id, span_id in expected:
            assert any(s.span_id == span_id for s in self.store.get_trace(trace_id)), (trace_id, span_id)
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as conn:
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            wrong = conn.execute("SELECT t.trace_id FROM traces t LEFT JOIN (SELECT trace_id, COUNT(*) n FROM spans "
                                 "GROUP BY trace_id) s ON s.trace_id = t.trace_id WHERE t.span_count != s.n").fetchall()
            assert not wrong


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    made = Fixture(tmp_path_factory.mktemp("fuzz-collector") / "spans.db")
    yield made
    made.store.close()


def fuzz(kind: str) -> settings:
    return settings(max_examples=CASES[kind], deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


OUTER = st.one_of(
    JSON,
    st.fixed_dictionaries({"awslogs": JSON}),
    st.fixed_dictionaries({"awslogs": st.fixed_dictionaries({"data": st.one_of(JSON, st.text())})}),
    st.binary(max_size=300).map(lambda b: {"awslogs": {"data": _b64(b)}}),
    st.binary(max_size=300).map(lambda b: {"awslogs": {"data": _b64(gzip.compress(b))}}),
    JSON.map(lambda v: {"awslogs": {"data": _b64(gzip.compress(json.dumps(v).encode()))}}),
    st.binary(min_size=20, max_size=300).map(lambda b: {"awslogs": {"data": _b64(gzip.compress(b)[:-5])}}),
)


@fuzz("outer")
@given(OUTER)
def test_any_payload_is_counted_never_raised(fixture: Fixture, event: Any) -> None:
    summary = fixture.ingestor.ingest(event)
    assert isinstance(summary, dict)
    fixture.check(set())


IDS = st.tuples(st.integers(1, 2**128 - 1), st.integers(1, 2**64 - 1)).map(lambda p: (f"{p[0]:032x}", f"{p[1]:016x}"))
TIMES = st.integers(1_700_000_000_000_000_000, 1_900_000_000_000_000_000)
ATTRIBUTES = st.dictionaries(st.text(max_size=20), SMALL_JSON, max_size=6)


@st.composite
def good_span(draw: st.DrawFn) -> dict[str, Any]:
    """A valid wire span with fresh ids and hostile but legal content."""
    trace_id, span_id = draw(IDS)
    start = draw(TIMES)
    span = {"trace_id": trace_id, "span_id": span_id, "parent_id": draw(st.one_of(st.none(), IDS.map(lambda i: i[1]))),
            "name": draw(st.text(max_size=60)), "kind": draw(st.sampled_from(wire.KINDS)), "start": start,
            "end": start + draw(st.integers(0, 10**12)),
            "status": draw(st.one_of(st.just({"code": "unset"}), st.fixed_dictionaries(
                {"code": st.sampled_from(wire.STATUS_CODES), "message": st.text(max_size=40)}))),
            "attributes": draw(ATTRIBUTES)}
    if draw(st.booleans()):
        span["events"] = [{"name": draw(st.text(max_size=10)), "time": start, "attributes": draw(ATTRIBUTES)}]
    return span


@st.composite
def broken_span(draw: st.DrawFn) -> Any:
    """A valid span with one field replaced by junk (or removed), or junk altogether."""
    span = draw(good_span())
    choice = draw(st.integers(0, 2))
    if choice == 0:
        span[draw(st.sampled_from(sorted(span)))] = draw(SMALL_JSON)
    elif choice == 1:
        del span[draw(st.sampled_from(sorted(span)))]
    else:
        return draw(SMALL_JSON)
    return span


RESOURCES = st.one_of(st.fixed_dictionaries({"service.name": st.text(max_size=20)}), ATTRIBUTES)
PLATFORM = st.one_of(
    st.builds(lambda rid, d, m, used, extra: f"REPORT RequestId: {rid}\tDuration: {d} ms\tBilled Duration: 1 ms\t"
              f"Memory Size: {m} MB\tMax Memory Used: {used} MB\t{extra}", st.text(max_size=40),
              st.one_of(st.floats(allow_nan=True), st.text(max_size=8)), st.integers(-5, 2**70),
              st.integers(-5, 2**70), st.text(max_size=60)),
    st.builds(lambda t, rid, s: f"{t} {rid} Task timed out after {s} seconds", st.text(max_size=30),
              st.text(max_size=40), st.text(max_size=8)),
    st.builds(lambda rid, e: f"RequestId: {rid} Error: Runtime exited with error: {e}", st.text(max_size=40),
              st.text(max_size=30)),
    st.builds(lambda rid: f"START RequestId: {rid} Version: $LATEST", st.text(max_size=40)),
)


@st.composite
def documents(draw: st.DrawFn) -> tuple[dict[str, Any], set[SpanKey]]:
    """A well-formed subscription payload with hostile log events, and the keys of the valid spans in it."""
    expected: set[SpanKey] = set()
    messages: list[tuple[Any, bool]] = []  # (message, a well-formed log event that must be stored)
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 7))
        if kind == 0:
            spans = draw(st.lists(good_span(), min_size=1, max_size=3))
            expected |= {(s["trace_id"], s["span_id"]) for s in spans}
            prefix = draw(st.sampled_from(["", "2026-11-25T10:00:00.000Z\tabc\tINFO\t"]))
            messages += [(prefix + line, True) for line in wire.encode(spans, draw(RESOURCES))]
            continue
        if kind == 1:
            message: Any = wire.encode(draw(st.lists(broken_span(), min_size=1, max_size=3)), {"service.name": "x"})[0]
        elif kind == 2:
            message = "HOPTRACE " + draw(st.one_of(st.text(max_size=80), SMALL_JSON.map(json.dumps)))
        elif kind == 3:
            payload = draw(st.fixed_dictionaries({"v": st.one_of(st.just(1), SMALL_JSON), "resource": SMALL_JSON,
                                                  "spans": SMALL_JSON}))
            message = "HOPTRACE " + json.dumps(payload)
        elif kind == 4:
            message = (f"HOPTRACE-PART {draw(st.text(max_size=10))} {draw(st.text(max_size=6))} "
                       f"{draw(st.text(max_size=40))}")
        elif kind == 5:
            message = draw(PLATFORM)
        elif kind == 6:
            message = draw(st.text(max_size=100))
        else:
            message = draw(SMALL_JSON)  # not even a string
        messages.append((message, False))
    good_time = st.integers(1_700_000_000_000, 1_900_000_000_000)
    any_time = st.one_of(good_time, st.integers(-(2**70), 2**70), SMALL_JSON)  # a bad timestamp costs its event only
    events = [{"id": draw(st.one_of(st.text(max_size=10), SMALL_JSON)),
               "timestamp": draw(good_time if must else any_time), "message": message} for message, must in messages]
    if draw(st.booleans()):
        events.append(draw(SMALL_JSON))  # a log event that is not an object
    document = {"messageType": draw(st.sampled_from(["DATA_MESSAGE", "DATA_MESSAGE", "CONTROL_MESSAGE"])),
                "owner": draw(st.one_of(st.text(max_size=12), SMALL_JSON)),
                "logGroup": draw(st.one_of(st.just("/aws/lambda/fuzzed"), st.text(max_size=30))),
                "logStream": draw(st.text(max_size=30)), "subscriptionFilters": draw(SMALL_JSON), "logEvents": events}
    if document["messageType"] == "CONTROL_MESSAGE":
        expected = set()
    return {"awslogs": {"data": _b64(gzip.compress(json.dumps(document).encode()))}}, expected


@fuzz("documents")
@given(documents())
def test_hostile_log_events_never_raise_and_never_cost_good_spans(
        fixture: Fixture, case: tuple[dict[str, Any], set[SpanKey]]) -> None:
    event, expected = case
    summary = fixture.ingestor.ingest(event)
    assert isinstance(summary, dict)
    fixture.check(expected)


# What this fuzzing found in the collector (fixed alongside it), pinned as plain examples.

def test_found_awslogs_that_is_not_an_object_is_counted(fixture: Fixture) -> None:
    assert fixture.ingestor.ingest({"awslogs": None})["problems"] == {"not_subscription_event": 1}


def test_found_numbers_past_64_bits_cost_only_their_own_line(fixture: Fixture) -> None:
    good = {"trace_id": "7" * 32, "span_id": "7" * 16, "parent_id": None, "name": "kept", "kind": "server",
            "start": 1_795_593_398_000_000_000, "end": 1_795_593_398_100_000_000, "status": {"code": "ok"}}
    far = {**good, "span_id": "8" * 16, "name": "too far", "end": 2**64 - 1}
    lines = [(1_795_593_398_000, wire.encode([good, far], {"service.name": "svc"})[0]),
             (-(2**70), "START RequestId: r-1 Version: $LATEST"),  # a timestamp no clock can hold
             (1_795_593_398_000, "REPORT RequestId: r-2\tDuration: inf ms\tBilled Duration: 1 ms\t"
                                 f"Memory Size: {2**70} MB\tMax Memory Used: nan MB\t")]
    document = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/svc", "logStream": "s",
                "subscriptionFilters": [], "logEvents": [{"id": str(i), "timestamp": t, "message": m}
                                                         for i, (t, m) in enumerate(lines)]}
    summary = fixture.ingestor.ingest({"awslogs": {"data": _b64(gzip.compress(json.dumps(document).encode()))}})
    assert summary["problems"] == {"invalid_span": 1, "bad_log_event": 1}
    assert [s.name for s in fixture.store.get_trace("7" * 32)] == ["kept"]
    [report] = fixture.store.invocations(function="svc")
    assert (report.request_id, report.duration_ms, report.memory_mb, report.max_memory_mb) == ("r-2", None, None, None)


def test_found_otlp_time_past_64_bits_is_a_rejected_span_not_a_failed_request() -> None:
    from hoptrace_collector.ingest.problems import Problems
    from hoptrace_collector.ingest.records import DEFAULT_LIMITS
    from hoptrace_collector.otlp.decode import to_records

    span = {"trace_id": "7" * 32, "span_id": "9" * 16, "parent_id": None, "name": "x", "kind": "server",
            "start": 1, "end": 2**64 - 1, "status": {"code": "unset"}}
    records, rejected = to_records([({}, [span])], DEFAULT_LIMITS, Problems())
    assert records == [] and "2^63" in rejected[0]
