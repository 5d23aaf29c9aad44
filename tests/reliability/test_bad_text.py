"""Issue 14, causes 1-3 on the collector side: text no encoder takes, nesting no decoder takes, and
split lines whose pieces disagree — each costs only its own line or record, on both stores.

1. a lone surrogate (`\\ud800` in span JSON, or raw in a log message) is replaced by U+FFFD at
   decode, so the whole batch is stored; a record the store still refuses is quarantined (counted
   as `unstorable`, logged with its log group and stream) and the rest of the batch is stored;
2. 10,000 levels of nesting in a span line, in an attribute or in the whole payload are a counted
   `too_deep` problem of that line (or payload), never a RecursionError out of ingest;
3. `HOPTRACE-PART` pieces of one id with conflicting totals, across batches, count `bad_part`.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store, open_store
from tests.collector.payloads import document, wrap_document

T0 = 1_795_593_398_000_000_000
DEEP = "[" * 10_000 + "]" * 10_000


def wire_span(n: int, **fields: Any) -> dict[str, Any]:
    span = {"trace_id": f"{0xabc00 + n:032x}", "span_id": f"{n + 1:016x}", "parent_id": None, "name": f"op-{n}",
            "kind": "server", "start": T0 + n, "end": T0 + n + 1000, "status": {"code": "ok"}}
    return {**span, **fields}


@pytest.fixture
def store(any_store: Store) -> Store:
    """SQLite, then DynamoDB on moto's server (tests/collector/conftest.py)."""
    return any_store


def names_stored(store: Store, *numbers: int) -> list[str]:
    return [s.name for n in numbers for s in store.get_trace(f"{0xabc00 + n:032x}")]


def test_lone_surrogate_escapes_are_replaced_and_the_whole_batch_is_stored(store: Store) -> None:
    # GIVEN one line whose spans hold lone-surrogate escapes everywhere text goes, beside a good span
    spans = [wire_span(1), wire_span(2, name="a\ud800b", status={"code": "error", "message": "bad \udfff"},
                                     attributes={"k\ud800": "v\udbff", "pair": "\ud83d\ude00"},
                                     events=[{"name": "e\ud800", "time": T0 + 5, "attributes": {"x": "\udc00"}}])]
    line = wire.encode(spans, {"service.name": "svc\ud800"})[0]
    assert "\\ud800" in line  # the escape itself travels, as the layer writes it
    # WHEN it arrives with a raw lone surrogate in another log message and in the log stream name
    event = wrap_document(document([line, "plain log \ud800 line"], stream="stream\udc00"))
    summary = Ingestor(store).ingest(event)
    # THEN every span is stored, the surrogates replaced by U+FFFD and the valid pair kept
    assert summary["spans_written"] == 2 and "problems" not in summary
    [kept] = store.get_trace(f"{0xabc00 + 2:032x}")
    assert kept.name == "a\ufffdb" and kept.status_message == "bad \ufffd" and kept.service == "svc\ufffd"
    assert kept.attributes == {"k\ufffd": "v\ufffd", "pair": "\U0001f600"}
    assert kept.events[0]["name"] == "e\ufffd"
    assert names_stored(store, 1) == ["op-1"]


def test_an_escaped_backslash_before_u_stays_text() -> None:
    from hoptrace_collector.ingest.text import clean_json_escapes

    text = json.dumps({"a": "\\ud800", "b": "\ud800", "c": "\\\ud800"})
    assert json.loads(clean_json_escapes(text)) == {"a": "\\ud800", "b": "\ufffd", "c": "\\\ufffd"}


def test_a_record_the_store_still_refuses_is_quarantined_and_the_rest_stored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a SQLite store that refuses any value over 3,000 bytes (SQLITE_LIMIT_LENGTH): DataError
    store = open_store(f"sqlite:///{tmp_path}/small.db")
    store._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 3000)  # type: ignore[attr-defined]
    spans = [wire_span(n) for n in range(1, 8)]
    spans[4]["attributes"] = {"big": "x" * 3500}
    # WHEN a batch holds that one span among good ones
    summary = Ingestor(store).ingest(wrap_document(document(wire.encode(spans, {"service.name": "svc"}),
                                                            group="/aws/lambda/svc", stream="2026/s1")))
    # THEN the six good spans are stored, the one is counted and logged with where it came from
    assert summary["spans_written"] == 6 and summary["problems"] == {"unstorable": 1}
    assert names_stored(store, *range(1, 8)) == [f"op-{n}" for n in (1, 2, 3, 4, 6, 7)]
    quarantined = [json.loads(line.split(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()
                   if '"quarantined"' in line]
    assert quarantined == [{"event": "quarantined", "log_group": "/aws/lambda/svc", "log_stream": "2026/s1",
                            "trace_id": spans[4]["trace_id"], "span_id": spans[4]["span_id"],
                            "error": quarantined[0]["error"]}]
    assert "DataError" in quarantined[0]["error"]
    store.close()


@pytest.mark.parametrize("where", ["line", "attribute", "resource", "event attribute"])
def test_deep_nesting_costs_only_its_line(store: Store, where: str) -> None:
    good = wire.encode([wire_span(1)], {"service.name": "svc"})[0]
    other = wire_span(2)
    if where == "line":
        deep = "HOPTRACE " + DEEP
    else:
        text = wire.encode([other], {"service.name": "svc"})[0]
        if where == "attribute":
            deep = text.replace('"status"', f'"attributes":{{"k":{DEEP}}},"status"', 1)
        elif where == "resource":
            deep = text.replace('"resource":{', f'"resource":{{"deep":{DEEP},', 1)
        else:
            deep = text.replace('"status"', f'"events":[{{"name":"e","time":1,"attributes":{{"k":{DEEP}}}}}],'
                                '"status"', 1)
    summary = Ingestor(store).ingest(wrap_document(document([deep, good])))
    assert summary["problems"] == {"too_deep": 1}
    assert names_stored(store, 1, 2) == ["op-1"]


def test_a_payload_nested_too_deep_is_counted() -> None:
    class Refusing:
        def write(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("nothing to write")

    raw = b'{"messageType":"DATA_MESSAGE","logEvents":' + DEEP.encode() + b"}"
    summary = Ingestor(Refusing()).ingest(wrap_document(None, raw_json=raw))  # type: ignore[arg-type]
    assert summary["problems"] == {"too_deep": 1}


def test_deep_values_built_by_a_sender_are_stored_as_a_marker() -> None:
    from hoptrace_collector.ingest.problems import Problems
    from hoptrace_collector.ingest.records import DEFAULT_LIMITS, TOO_DEEP, clean_attributes

    value: Any = []
    for _ in range(5000):
        value = [value]
    problems = Problems()
    assert clean_attributes({"deep": value, "ok": 1}, DEFAULT_LIMITS, problems) == {"deep": TOO_DEEP, "ok": 1}
    assert problems.counts["too_deep"] == 1


def test_part_pieces_with_conflicting_totals_count_bad_part(store: Store) -> None:
    ingestor = Ingestor(store)
    first = ingestor.ingest(wrap_document(document(["HOPTRACE-PART 0123abcd 3/3 }"])))
    assert "problems" not in first
    good = wire.encode([wire_span(1)], {"service.name": "svc"})[0]
    second = ingestor.ingest(wrap_document(document(["HOPTRACE-PART 0123abcd 1/2 {", good])))
    assert second["problems"] == {"bad_part": 1} and second["spans_written"] == 1
    assert ingestor.parts.pending == 0  # the conflicting set is given up, not kept to expire later
    # and a real split line of the same shape still joins after it
    pieces = wire.encode([wire_span(3, attributes={"big": "y" * 3000})], {"service.name": "svc"}, max_bytes=1200)
    assert len(pieces) > 2
    third = ingestor.ingest(wrap_document(document(pieces[::-1])))
    assert third["spans_written"] == 1 and "problems" not in third


def test_a_large_span_is_stored_by_both_stores(any_store: Store) -> None:
    # GIVEN a span within every collector limit (128 attributes of 3,500 chars), ~450 KB as JSON
    spans = [wire_span(n) for n in range(1, 5)]
    spans[2]["attributes"] = {f"a{i}": "z" * 3500 for i in range(128)}
    event = wrap_document(document(wire.encode(spans, {"service.name": "svc"})))
    summary = Ingestor(any_store).ingest(event)
    # THEN both hold it: SQLite as it is, DynamoDB compressed in its invocation's span group
    assert summary["spans_written"] == 4 and "problems" not in summary
    assert names_stored(any_store, *range(1, 5)) == ["op-1", "op-2", "op-3", "op-4"]


def test_a_span_past_dynamodbs_item_size_is_quarantined_and_the_rest_stored(any_store: Store) -> None:
    # GIVEN a span within every collector limit but past 400 KB even compressed (random CJK text: UTF-8,
    # three bytes a character, that zlib can barely shrink)
    rng = random.Random(7)
    spans = [wire_span(n) for n in range(1, 5)]
    spans[2]["attributes"] = {f"a{i}": "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(3500))
                              for i in range(128)}
    event = wrap_document(document(wire.encode(spans, {"service.name": "svc"})))
    summary = Ingestor(any_store).ingest(event)
    stored = names_stored(any_store, *range(1, 5))
    if any_store.url.startswith("sqlite"):  # SQLite holds it
        assert summary["spans_written"] == 4 and stored == ["op-1", "op-2", "op-3", "op-4"]
    else:  # DynamoDB's 400 KB item limit refuses it: that span only
        assert summary["problems"] == {"unstorable": 1}
        assert stored == ["op-1", "op-2", "op-4"]
