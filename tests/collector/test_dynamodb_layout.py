"""What DynamoDB layout 2 promises beyond the store contract: an invocation costs a few items, never one per
span; an oversized invocation is split safely; redelivery and two writers store everything exactly once; a
table of the old layout is refused with the fix, never read as empty."""

from __future__ import annotations

import random
import threading
import time
import uuid
import zlib
from collections import Counter
from typing import Any

import pytest

from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import SpanRecord, StoreError, TraceFilter, dynamodb_zdict, open_store
from hoptrace_collector.store.dynamodb import DynamoStore
from hoptrace_collector.store.dynamodb_groups import MAX_ITEM_BYTES
from tests.collector.payloads import (
    OK_HANDLER,
    REQUEST_ID,
    end_line,
    report_line,
    start_line,
    subscription_event,
    traced_lines,
)
from tests.conftest import load_event


@pytest.fixture
def dynamo_url(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS

    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return f"dynamodb://layout-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto_endpoint}&create=1"


class Recorder:
    """Wraps the store's boto3 client: the items each write call sends, by kind (sort key prefix)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.items: Counter[str] = Counter()
        self.sizes: list[int] = []

    def _note(self, item: dict[str, Any]) -> None:
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        self.items[pk[:2] if pk.startswith("P#") else sk[:2]] += 1
        self.sizes.append(sum(len(k) + len(next(iter(v.values()))) for k, v in item.items()))

    def put_item(self, **kwargs: Any) -> Any:
        self._note(kwargs["Item"])
        return self.client.put_item(**kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        for requests in kwargs["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    self._note(request["PutRequest"]["Item"])
        return self.client.batch_write_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def recorded(url: str) -> tuple[DynamoStore, Recorder]:
    store = open_store(url)
    assert isinstance(store, DynamoStore)
    recorder = Recorder(store.io.client)
    store.io.client = recorder
    return store, recorder


def test_an_invocation_with_logs_costs_one_span_item_and_one_request_item(dynamo_url: str) -> None:
    # GIVEN one traced invocation's lines: START, the span line, two application lines, END, REPORT
    store, recorder = recorded(dynamo_url)
    lines = traced_lines(OK_HANDLER, load_event("apigateway_v1"))
    event = subscription_event([start_line(), *lines, f"2026-12-01T10:00:00.000Z\t{REQUEST_ID}\tINFO\tcharging\n",
                                "a print line\n", end_line(), report_line(init=100.0)])
    summary = Ingestor(store).ingest(event)
    spans = summary["spans_written"]
    assert spans >= 2 and summary["log_lines_written"] == 2
    # THEN its spans are one group item and its record, trace id and lines one request item
    assert recorder.items["G#"] == 1 and recorder.items["F#"] == 1 and recorder.items["L#"] == 0
    assert store.invocation_logs([("orders", REQUEST_ID)])[1].message == "a print line"
    assert store.invocations()[0].init_ms == 100.0
    # AND the redelivered batch changes no item (its puts as new fail their condition; only its page entries
    # repeat, which readers keep once), and counts everything unchanged
    before = _items_but_pages(store)
    recorder.items.clear()
    again = Ingestor(store).ingest(event)
    assert (again["spans_written"], again["spans_unchanged"], again["invocations_written"]) == (0, spans, 0)
    assert _items_but_pages(store) == before
    assert recorder.items["G#"] == 1 and recorder.items["F#"] == 1  # the failed puts as new, nothing after
    assert len(store.invocation_logs([("orders", REQUEST_ID)])) == 2
    assert len(store.list_traces(TraceFilter(limit=10))) == 1


def _items_but_pages(store: DynamoStore) -> list[dict[str, Any]]:
    return sorted((i for i in store.io.scan() if not i["pk"]["S"].startswith("P#")),
                  key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_a_new_invocation_is_written_without_reading_first(dynamo_url: str) -> None:
    # GIVEN a store and one traced invocation it has not seen
    store, _ = recorded(dynamo_url)
    store._ready(writing=True)  # the table's layout, checked once per process
    reads: list[str] = []
    client = store.io.client
    for name in ("batch_get_item", "get_item", "query"):
        def counted(name: str = name, **kwargs: Any) -> Any:
            reads.append(name)
            return getattr(client.client, name)(**kwargs)
        setattr(client, name, counted)
    lines = traced_lines(OK_HANDLER, load_event("apigateway_v1"))
    summary = Ingestor(store).ingest(subscription_event([start_line(), *lines, end_line(), report_line()]))
    # THEN its group and request item are put as new, and nothing is read to write them
    assert summary["spans_written"] >= 2 and summary["invocations_written"] == 1
    assert reads == []


def test_an_oversized_invocation_is_split_into_items_under_the_limit(dynamo_url: str) -> None:
    # GIVEN one invocation with 1,200 spans of 1 KB of incompressible attributes (1.2 MB)
    store, recorder = recorded(dynamo_url)
    rng = random.Random(5)
    start = time.time_ns() - 60 * 10**9
    trace = "c" * 32
    spans = [SpanRecord(trace, f"{n + 1:016x}", None if n == 0 else f"{1:016x}", f"op {n}",
                        "server" if n == 0 else "client", start + n, start + n + 10, "ok", function="bulk",
                        service="bulk", request_id="r-big" if n == 0 else None,
                        attributes={"blob": rng.randbytes(512).hex()}) for n in range(1200)]
    assert store.write(spans).spans_written == 1200
    # THEN several group items hold it, each under DynamoDB's 400 KB
    assert recorder.items["G#"] >= 3 and max(recorder.sizes) < MAX_ITEM_BYTES
    assert store.get_trace(trace) == sorted(spans, key=lambda s: (s.start_ns, s.span_id))
    # AND a redelivery changes nothing and the summary counts each span once
    assert store.write(list(reversed(spans))).spans_written == 0
    [summary] = store.list_traces(TraceFilter(trace_id=trace))
    assert summary.span_count == 1200 and summary.root_name == "op 0"


def test_groups_the_previous_version_wrote_still_read_and_merge(dynamo_url: str) -> None:
    # GIVEN a trace whose group item was compressed as the previous version did (plain zlib, no dictionary)
    store = open_store(dynamo_url)
    assert isinstance(store, DynamoStore)
    start = time.time_ns() - 60 * 10**9
    trace = "f" * 32
    root = SpanRecord(trace, "1" * 16, None, "old invocation", "server", start, start + 50, "ok", function="old",
                      service="old", request_id="r-old")
    child = SpanRecord(trace, "2" * 16, root.span_id, "child", "client", start + 1, start + 9, "ok",
                       function="old", service="old")
    assert store.write([root, child]).spans_written == 2
    [item] = [i for i in store.io.scan() if i["pk"]["S"] == "T#" + trace]
    assert item["z"]["B"][1] & 0x20  # this version's: started from the dictionary
    item["z"] = {"B": zlib.compress(dynamodb_zdict.inflate(item["z"]["B"]), 9)}
    store.io.call("put_item", TableName=store.table, Item=item)
    # THEN every reader reads it
    reader = open_store(dynamo_url)
    assert reader.get_trace(trace) == [root, child]
    assert sorted(reader.spans(function="old"), key=lambda s: s.start_ns) == [root, child]
    assert reader.list_traces(TraceFilter(request_id="r-old"))[0].span_count == 2
    # AND a redelivery changes nothing, and a new span of the same group merges into it
    assert store.write([root, child]).spans_written == 0
    late = SpanRecord(trace, "3" * 16, root.span_id, "late", "client", start + 10, start + 20, "ok", function="old",
                      service="old")
    assert store.write([root, child, late]).spans_written == 1
    assert open_store(dynamo_url).get_trace(trace) == [root, child, late]
    [item] = [i for i in store.io.scan() if i["pk"]["S"] == "T#" + trace]
    assert item["z"]["B"][1] & 0x20  # rewritten in this version's form


def test_two_writers_of_the_same_batch_store_it_once(dynamo_url: str) -> None:
    # GIVEN two collectors handed the same batch at the same moment (a redelivery racing the first try)
    start = time.time_ns() - 60 * 10**9
    batch = [SpanRecord(f"{t + 1:032x}", f"{t * 10 + i + 1:016x}", None if i == 0 else f"{t * 10 + 1:016x}", "op",
                        "server" if i == 0 else "client", start + i, start + 10, "ok", function="fn", service="fn",
                        request_id=f"r-{t}" if i == 0 else None) for t in range(20) for i in range(3)]
    stores = [open_store(dynamo_url), open_store(dynamo_url)]
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def write(store: Any) -> None:
        barrier.wait()
        results.append(store.write(batch))

    threads = [threading.Thread(target=write, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN between them every span was written exactly once, and each trace holds its three spans
    assert sum(r.spans_written for r in results) == 60 and sum(r.spans_unchanged for r in results) == 60
    traces = stores[0].list_traces(TraceFilter(limit=100))
    assert len(traces) == 20 and {t.span_count for t in traces} == {3}


def test_a_table_of_the_per_span_layout_is_refused_with_the_fix(dynamo_url: str, aws: Any) -> None:
    # GIVEN a table an older hoptrace wrote (its function registry, no layout marker)
    store = open_store(dynamo_url)
    assert isinstance(store, DynamoStore)
    aws("dynamodb").put_item(TableName=store.table, Item={"pk": {"S": "FN"}, "sk": {"S": "orders"},
                                                          "d0": {"N": "20000"}, "d1": {"N": "20001"}})
    # THEN reading and writing both say what it is and what to do, instead of showing an empty store
    for action in (lambda: store.list_traces(TraceFilter()), lambda: store.write(invocations=())):
        with pytest.raises(StoreError, match=r"per-span layout .* new table"):
            action()


def test_a_table_this_version_wrote_is_marked_and_read_back(dynamo_url: str) -> None:
    first = open_store(dynamo_url)
    start = time.time_ns()
    first.write([SpanRecord("d" * 32, "e" * 16, None, "x", "server", start, start + 1, "ok", function="f")])
    assert [s.span_id for s in open_store(dynamo_url).get_trace("d" * 32)] == ["e" * 16]
