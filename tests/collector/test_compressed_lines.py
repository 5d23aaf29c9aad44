"""The collector reads compressed span lines (HOPTRACE_COMPRESS_LINES) as it reads plain ones: the real layer's
output, split into parts, with hostile bodies counted as `bad_compressed_line` and never costing a neighbour."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store, open_store
from tests.collector.payloads import (
    OK_HANDLER,
    document,
    end_line,
    report_line,
    start_line,
    subscription_event,
    traced_lines,
    wrap_document,
)
from tests.conftest import load_event

TRACE = "5759e988bd862e3fe1be46a994272793"  # the API Gateway fixture's traceparent
SDK_HANDLER = """
import boto3
from botocore.stub import Stubber
sqs = boto3.client("sqs", region_name="us-east-1")
stub = Stubber(sqs)
stub.activate()
def handler(event, context):
    for n in range(3):
        stub.add_response("send_message", {"MessageId": f"5fea7756-0ea4-451a-a703-a558b933e27{n}"})
        sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/orders", MessageBody="{}")
    return {"statusCode": 200, "body": "{}"}
"""


def stored(store: Store) -> dict[str, Any]:
    return {s.span_id: (s.name, s.kind, s.parent_id, s.status, s.attributes, s.function, s.service)
            for s in store.get_trace(TRACE)}


@pytest.mark.parametrize("source", [OK_HANDLER, SDK_HANDLER], ids=["no-op", "three SQS sends"])
def test_the_real_layers_compressed_lines_store_exactly_what_its_plain_lines_store(tmp_path: Any, source: str
                                                                                   ) -> None:
    event = load_event("apigateway_v1")
    plain = traced_lines(source, event)
    compressed = traced_lines(source, event, HOPTRACE_COMPRESS_LINES="true")
    assert all(line.startswith("HOPTRACE z1:") for line in compressed)
    assert sum(map(len, compressed)) < sum(map(len, plain)) / 2
    results = []
    for name, lines in (("plain", plain), ("compressed", compressed)):
        store = open_store(f"sqlite:///{tmp_path}/{name}.db")
        summary = Ingestor(store).ingest(subscription_event([start_line(), *lines, end_line(), report_line()]))
        assert "problems" not in summary, summary
        results.append(stored(store))
        store.close()
    # the runs are two processes, so ids, times and request-scoped values differ: compare the shape
    shapes = [sorted((name, kind, status, sorted(attributes)) for name, kind, _, status, attributes, *_ in r.values())
              for r in results]
    assert shapes[0] == shapes[1] and len(results[1]) == len(wire.decode(wire.plain(compressed[0]))[1])


def test_a_bad_compressed_line_is_counted_and_its_neighbours_stored(ingestor: Ingestor, store: Store) -> None:
    event = load_event("apigateway_v1")
    (good,) = traced_lines(OK_HANDLER, event, HOPTRACE_COMPRESS_LINES="true")
    resource, spans, _ = wire.decode(good.rstrip("\n"))
    other = [{**spans[0], "span_id": "4" * 16, "parent_id": spans[0]["span_id"], "name": "plain neighbour"}]
    events = [
        good,
        "HOPTRACE z1:" + good[len("HOPTRACE z1:"):][:-12],  # cut short
        "HOPTRACE z1:not*base64",
        "HOPTRACE z7:" + good[len("HOPTRACE z1:"):],  # a dictionary this collector does not know
        wire.encode(other, resource)[0],
    ]
    summary = ingestor.ingest(subscription_event(events))
    assert summary["problems"] == {"bad_compressed_line": 3}
    assert {s.span_id for s in store.get_trace(TRACE)} == {s["span_id"] for s in spans} | {"4" * 16}


def test_strings_in_a_compressed_line_are_bounded_by_their_inflated_length(ingestor: Ingestor, store: Store
                                                                           ) -> None:
    # A 10,000-character value deflates to a few bytes: the line's own length says nothing about its strings.
    event = load_event("apigateway_v1")
    (good,) = traced_lines(OK_HANDLER, event)
    resource, spans, _ = wire.decode(good.rstrip("\n"))
    big = {**spans[0], "span_id": "5" * 16, "parent_id": spans[0]["span_id"], "name": "big",
           "attributes": {"payload": "x" * 10_000}}
    (line,) = wire.encode([big], resource, compress=True)
    assert len(line) < 4096
    summary = ingestor.ingest(subscription_event([line]))
    assert summary["problems"] == {"attribute_truncated": 1}
    assert len(next(s for s in store.get_trace(TRACE) if s.span_id == "5" * 16).attributes["payload"]) == 4096


def test_compressed_pieces_rejoin_across_batches(ingestor: Ingestor, store: Store) -> None:
    event = load_event("apigateway_v1")
    (good,) = traced_lines(OK_HANDLER, event, HOPTRACE_COMPRESS_LINES="true")
    pieces = wire._split_oversized(good.rstrip("\n"), 120)  # cut as the layer cuts an oversized line
    assert len(pieces) > 2 and all(p.startswith(wire.PART_PREFIX) for p in pieces)
    first = ingestor.ingest(wrap_document(document(pieces[::2])))
    second = ingestor.ingest(wrap_document(document(pieces[1::2])))
    assert "problems" not in first and "problems" not in second
    assert {s.span_id for s in store.get_trace(TRACE)} == {s["span_id"] for s in wire.decode(good.rstrip())[1]}
    assert json.loads(wire.plain(good.rstrip())[len(wire.PREFIX):])["v"] == 1
