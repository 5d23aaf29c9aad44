"""Malformed input is counted and reported with its log group and stream; the rest of the batch is stored.

Only a failing store makes the handler raise (so CloudWatch retries), and a retried or
redelivered batch never duplicates anything.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.ingest.parts import PartBuffer
from hoptrace_collector.ingest.payload import MAX_DECOMPRESSED_BYTES
from hoptrace_collector.ingest.problems import LOG_PREFIX
from hoptrace_collector.store import Store, StoreError, TraceFilter
from tests.collector.payloads import (
    LOG_GROUP,
    OK_HANDLER,
    document,
    report_line,
    subscription_event,
    traced_lines,
    wrap_document,
)
from tests.conftest import load_event

TRACE = "5759e988bd862e3fe1be46a994272793"


@pytest.fixture(scope="module")
def good_line() -> str:
    return traced_lines(OK_HANDLER, load_event("apigateway_v1"))[0]


def spans_in(line: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    resource, spans, _ = wire.decode(line.rstrip("\n"))
    return resource, spans


def pieces_of_one_line(line: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The line's spans as ONE span line cut into `HOPTRACE-PART` pieces (the layer does this over 200 KiB)."""
    resource, spans = spans_in(line)
    pieces = wire.encode(spans, resource)  # one whole line ...
    assert len(pieces) == 1
    whole = pieces[0]
    pieces = wire._split_oversized(whole, 400)  # ... cut as the layer cuts an oversized one
    assert len(pieces) > 2 and all(p.startswith(wire.PART_PREFIX) for p in pieces)
    return pieces, spans


def b64(data: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


PAYLOADS = {
    "not_subscription_event": ["not an event", {}, {"awslogs": {}}, {"awslogs": {"data": 42}}],
    "bad_base64": [{"awslogs": {"data": "%%%not base64%%%"}}],
    "bad_gzip": [b64(b"plain text, not gzip"), b64(gzip.compress(b'{"messageType": "DATA_MESSAGE"}')[:-12])],
    "bad_json": [wrap_document(None, raw_json=b'{"messageType": "DATA_MESSAGE", "logEvents": [{"id"')],
    "not_object": [wrap_document(["a", "list"])],
    "bad_shape": [wrap_document({"messageType": "SURPRISE"}),
                  wrap_document({**document([]), "logEvents": "nope"}),
                  wrap_document({**document([]), "logGroup": None})],
}


@pytest.mark.parametrize(("kind", "index"), [(k, i) for k, v in PAYLOADS.items() for i in range(len(v))])
def test_broken_payloads_are_counted_never_raised(ingestor: Ingestor, kind: str, index: int,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the handler receives a payload broken this way / THEN it returns a count, logs it, raises nothing
    summary = ingestor.ingest(PAYLOADS[kind][index])
    assert summary["problems"] == {kind: 1}
    out = capsys.readouterr().out
    assert out.startswith(LOG_PREFIX) and not out.startswith("HOPTRACE")
    assert json.loads(out[len(LOG_PREFIX):])["problems"] == {kind: 1}


def test_gzip_bomb_is_refused(ingestor: Ingestor) -> None:
    summary = ingestor.ingest(b64(gzip.compress(b" " * (MAX_DECOMPRESSED_BYTES + 1), compresslevel=1)))
    assert summary["problems"] == {"too_large": 1}


def test_every_bad_line_is_counted_and_the_good_ones_stored(ingestor: Ingestor, store: Store, good_line: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    resource, spans = spans_in(good_line)
    invocation = next(s for s in spans if s["kind"] == "server")
    wrong_types = {**invocation, "span_id": "2" * 16, "start": "yesterday"}
    bad_id = {**invocation, "span_id": "XYZ"}
    huge = {**invocation, "span_id": "3" * 16, "parent_id": invocation["span_id"], "name": "big",
            "attributes": {"payload": "x" * 10_000, "nested": {"a": 1}, "nothing": None, "list": ["y" * 5000, 1]}}
    events = [
        "HOPTRACE " + json.dumps({"v": 1, "resource": resource, "spans": spans})[:-30],  # truncated line
        "HOPTRACE " + json.dumps({"v": 99, "resource": resource, "spans": spans}),
        "HOPTRACE [1, 2, 3]",
        "HOPTRACE " + json.dumps({"v": 1, "resource": resource, "spans": "none"}),
        wire.encode([wrong_types, bad_id, huge], resource)[0],
        "HOPTRACE-PART garbage",
        good_line,
        "just the handler's own print()",
    ]
    doc = document(events)
    doc["logEvents"].insert(2, {"id": "1", "timestamp": "soon", "message": "x"})
    doc["logEvents"].insert(3, "not an object")
    # WHEN the batch is handled
    summary = ingestor.ingest(wrap_document(doc))
    # THEN each problem is counted under its kind
    assert summary["problems"] == {
        "bad_log_event": 2, "bad_span_json": 1, "unknown_version": 1, "bad_span_line": 2, "invalid_span": 2,
        "attribute_truncated": 2, "bad_attribute": 1, "bad_part": 1,
    }
    # AND reported once, with the log group and stream they came from
    report = json.loads(capsys.readouterr().out.strip().split("\n")[-1][len(LOG_PREFIX):])
    assert (report["log_group"], report["log_stream"]) == (LOG_GROUP, doc["logStream"])
    assert any("trace_id" in s or "span_id" in s for s in report["samples"])
    # AND the good spans (and the repaired oversized one) are stored
    stored = {s.span_id: s for s in store.get_trace(TRACE)}
    assert {s["span_id"] for s in spans} | {"3" * 16} == set(stored)
    big = stored["3" * 16].attributes
    assert len(big["payload"]) == 4096 and len(big["list"][0]) == 4096 and big["nested"] == '{"a": 1}'
    assert "nothing" not in big


def test_failed_store_write_raises_and_the_retry_stores_everything_once(store: Store, good_line: str) -> None:
    # GIVEN a store that fails the first write, and a batch whose last piece completes a split line
    class Flaky:
        def __init__(self) -> None:
            self.failures = 1

        def write(self, *args: Any, **kwargs: Any) -> Any:
            if self.failures:
                self.failures -= 1
                raise StoreError("disk full")
            return store.write(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

    ingestor = Ingestor(Flaky())  # type: ignore[arg-type]
    pieces, spans = pieces_of_one_line(good_line)
    ingestor.ingest(subscription_event(pieces[:-1]))
    last = subscription_event([pieces[-1], report_line()])
    # WHEN the write fails / THEN the handler raises so the source retries
    with pytest.raises(StoreError):
        ingestor.ingest(last)
    assert store.list_traces(TraceFilter()) == [] and store.invocations() == []
    # AND the retry stores the whole batch, the joined line included
    retried = ingestor.ingest(last)
    assert retried["spans_written"] == len(spans) and retried["invocations_written"] == 1
    assert len(store.get_trace(TRACE)) == len(spans)


def test_split_line_across_batches_and_streams_in_any_order(ingestor: Ingestor, store: Store,
                                                           good_line: str) -> None:
    # GIVEN one span line cut into pieces, delivered out of order in three batches of two streams
    pieces, spans = pieces_of_one_line(good_line)
    thirds = [pieces[2::3], pieces[0::3], pieces[1::3]]
    summaries = [ingestor.ingest(subscription_event(part, stream=f"stream-{i % 2}")) for i, part in
                 enumerate(thirds)]
    # THEN the spans are stored once the last piece arrives, and nothing is reported missing
    assert [s["spans"] for s in summaries] == [0, 0, len(spans)]
    assert len(store.get_trace(TRACE)) == len(spans) and ingestor.parts.pending == 0
    # AND a redelivered piece of a finished line is ignored, not kept waiting forever
    again = ingestor.ingest(subscription_event(thirds[0]))
    assert again["spans"] == 0 and "problems" not in again and ingestor.parts.pending == 0


def test_pieces_that_never_complete_are_reported_once(store: Store, good_line: str) -> None:
    clock = [0.0]
    parts = PartBuffer(max_age_s=60)
    ingestor = Ingestor(store, parts)
    pieces, _spans = pieces_of_one_line(good_line)
    original_feed = parts.feed
    parts.feed = lambda m, g, s, now=None: original_feed(m, g, s, clock[0])  # type: ignore[method-assign]
    original_expire = parts.expire
    parts.expire = lambda now=None: original_expire(clock[0])  # type: ignore[method-assign]
    ingestor.ingest(subscription_event(pieces[:-1], stream="lost-stream"))
    clock[0] = 61.0
    summary = ingestor.ingest(subscription_event(["unrelated"]))
    assert summary["problems"] == {"incomplete_part": 1}
    assert ingestor.ingest(subscription_event(["unrelated"])).get("problems") is None


def test_too_many_pending_part_sets_are_given_up_oldest_first(store: Store, good_line: str) -> None:
    parts = PartBuffer(max_pending=2)
    firsts = [pieces_of_one_line(good_line)[0][0] for _ in range(3)]
    summary = Ingestor(store, parts).ingest(subscription_event(firsts))
    assert summary["problems"] == {"incomplete_part": 1} and parts.pending == 2
