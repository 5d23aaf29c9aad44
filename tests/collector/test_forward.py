"""Forwarding: OTLP/HTTP to another backend and X-Ray segments (moto's X-Ray), never failing a batch."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hoptrace_collector.config import CollectorConfig
from hoptrace_collector.forward import forwarder
from hoptrace_collector.forward.xray import documents, xray_trace_id
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.otlp.server import OtlpReceiver
from hoptrace_collector.store import Store, open_store
from tests.collector.payloads import (
    OK_HANDLER,
    REQUEST_ID,
    report_line,
    start_line,
    subscription_event,
    timeout_line,
    traced_lines,
)
from tests.conftest import load_event

TRACE = "5759e988bd862e3fe1be46a994272793"


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return traced_lines(OK_HANDLER, load_event("apigateway_v1"))


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[tuple[OtlpReceiver, Store]]:
    """Another OTLP backend: our own receiver in front of a second store."""
    other = open_store(str(tmp_path / "backend.db"))
    receiver = OtlpReceiver(other, port=0).start()
    yield receiver, other
    receiver.shutdown()


def test_otlp_forwarding_sends_every_stored_span(store: Store, backend: tuple[OtlpReceiver, Store],
                                                 lines: list[str]) -> None:
    receiver, other = backend
    ingestor = Ingestor(store, forward=forwarder(CollectorConfig(forward_otlp=f"http://127.0.0.1:{receiver.port}")))
    summary = ingestor.ingest(subscription_event(lines))
    assert summary["forwarded"] == {"otlp": summary["spans"]}
    assert [(s.span_id, s.attributes) for s in other.get_trace(TRACE)] == [
        (s.span_id, s.attributes) for s in store.get_trace(TRACE)]
    assert {s.source for s in other.get_trace(TRACE)} == {"otlp"}


def test_a_failed_destination_is_counted_and_the_batch_still_stored(store: Store, lines: list[str],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = CollectorConfig(forward_otlp="http://127.0.0.1:9/v1/traces", forward_timeout_s=0.5)
    summary = Ingestor(store, forward=forwarder(config)).ingest(subscription_event(lines))
    assert summary["forwarded"] == {"otlp_errors": 1} and summary["spans_written"] >= 1
    assert store.get_trace(TRACE)
    assert '"event":"forward_failed"' in capsys.readouterr().out


def test_xray_documents_are_segments_and_subsegments(store: Store, lines: list[str]) -> None:
    Ingestor(store).ingest(subscription_event([start_line(), timeout_line(), report_line(duration=3000.0)]))
    Ingestor(store).ingest(subscription_event(lines))
    spans = store.get_trace(TRACE)
    docs = {d["id"]: d for d in map(json.loads, documents(spans))}
    invocation = next(s for s in spans if s.request_id == REQUEST_ID)
    segment = docs[invocation.span_id]
    assert (segment["name"], segment["trace_id"], segment["parent_id"]) == (
        "orders", xray_trace_id(TRACE), invocation.parent_id)
    assert segment["origin"] == "AWS::Lambda::Function" and segment["aws"] == {"request_id": REQUEST_ID}
    assert segment["start_time"] == invocation.start_ns / 1e9 and segment["end_time"] == invocation.end_ns / 1e9
    assert segment["metadata"]["hoptrace"]["attributes"]["faas.invocation_id"] == REQUEST_ID
    assert "in_progress" not in segment or segment["in_progress"] is False
    children = [d for d in docs.values() if d.get("type") == "subsegment"]
    assert children and all(d["parent_id"] and d["trace_id"] == xray_trace_id(TRACE) for d in children)


def test_xray_forwarding_to_moto(store: Store, aws: Any, lines: list[str]) -> None:
    xray = aws("xray")
    ingestor = Ingestor(store, forward=forwarder(CollectorConfig(forward_xray=True), xray_client=xray))
    summary = ingestor.ingest(subscription_event(lines))
    assert summary["forwarded"] == {"xray": summary["spans"]}
    traces = xray.batch_get_traces(TraceIds=[xray_trace_id(TRACE)])["Traces"]
    stored = {json.loads(s["Document"])["id"] for t in traces for s in t["Segments"]}
    assert {s.span_id for s in store.get_trace(TRACE)} <= stored


def test_xray_refusals_are_counted_and_the_rest_sent(store: Store, lines: list[str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    class Refusing:  # X-Ray refuses documents one by one: here the first of each call
        def put_trace_segments(self, TraceSegmentDocuments: list[str]) -> dict[str, Any]:
            first = json.loads(TraceSegmentDocuments[0])["id"]
            return {"UnprocessedTraceSegments": [{"Id": first, "ErrorCode": "InvalidTraceId", "Message": "too old"}]}

    ingestor = Ingestor(store, forward=forwarder(CollectorConfig(forward_xray=True), xray_client=Refusing()))
    summary = ingestor.ingest(subscription_event(lines))
    assert summary["forwarded"] == {"xray": summary["spans"] - 1, "xray_refused": 1}
    logged = [json.loads(line.split(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()
              if '"event":"forward_refused"' in line]
    assert [(entry["destination"], entry["refused"]) for entry in logged] == [("xray", 1)]
    assert "InvalidTraceId: too old" in logged[0]["example"]


def test_xray_documents_fit_what_x_ray_takes_whatever_the_span_holds(store: Store, aws: Any,
                                                                    lines: list[str]) -> None:
    # GIVEN stored spans renamed with characters X-Ray refuses in names, past its 200, and one whose 128
    # attributes of 4 KB make a document of half a megabyte
    Ingestor(store).ingest(subscription_event(lines))
    spans = store.get_trace(TRACE)
    odd = "orders (prod) <v2>; \"quoted\"\n\u00e9t\u00e9 " + "x" * 300
    big = {f"payload.{i}": "y" * 4096 for i in range(128)}
    hostile = [dataclasses.replace(s, name=odd, service=odd, attributes={**s.attributes, **big}) for s in spans]
    # WHEN they are made into documents and sent to (moto's) X-Ray
    docs = documents(hostile)
    xray = aws("xray")
    forwarded = forwarder(CollectorConfig(forward_xray=True), xray_client=xray)
    assert forwarded is not None and forwarded(hostile) == {"xray": len(hostile)}
    # THEN each is under 64 KB, with a name X-Ray takes, and says it was cut; nothing lost but detail
    parsed = [json.loads(d) for d in docs]
    assert all(len(d.encode()) <= 64_000 for d in docs)
    assert all(re.fullmatch(r"[\w .:/%&#=+\\@-]{1,200}", p["name"]) for p in parsed)
    assert {p["id"] for p in parsed} == {s.span_id for s in spans}
    kept = [p["metadata"]["hoptrace"]["attributes"] for p in parsed]
    assert all(a["hoptrace.truncated"] is True for a in kept)
    assert all(len(a["payload.0"]) == 256 for a in kept)  # 128 cut strings fit: the attributes stay
    invocation = next(s for s in spans if s.request_id == REQUEST_ID)
    assert next(p for p in parsed if p["id"] == invocation.span_id)["metadata"]["hoptrace"]["attributes"][
        "faas.invocation_id"] == REQUEST_ID
    stored = {json.loads(s["Document"])["id"] for t in xray.batch_get_traces(TraceIds=[xray_trace_id(TRACE)])["Traces"]
              for s in t["Segments"]}
    assert {s.span_id for s in spans} <= stored


def test_an_xray_document_too_big_even_cut_leaves_its_attributes_out(store: Store, lines: list[str]) -> None:
    Ingestor(store).ingest(subscription_event(lines))
    span = store.get_trace(TRACE)[0]
    wide = {f"{i:03d}" + "k" * 600: "v" * 4096 for i in range(128)}  # long names: cutting values is not enough
    [doc] = documents([dataclasses.replace(span, attributes=wide)])
    assert len(doc) <= 64_000
    assert json.loads(doc)["metadata"]["hoptrace"]["attributes"] == {"hoptrace.truncated": True,
                                                                      "attributes_left_out": 128}


def test_forwarding_is_configured_from_the_environment() -> None:
    config = CollectorConfig.from_env({"HOPTRACE_FORWARD_OTLP": "http://collector:4318", "HOPTRACE_FORWARD_XRAY": "1",
                                       "HOPTRACE_FORWARD_TIMEOUT": "3"})
    assert (config.forward_otlp, config.forward_xray, config.forward_timeout_s) == ("http://collector:4318", True, 3.0)
    chosen = forwarder(config)
    assert chosen is not None and set(chosen.destinations) == {"otlp", "xray"}
    assert forwarder(CollectorConfig()) is None
