"""The property of issue 14: for any batch, every valid span in it is stored exactly once, whatever else it holds.

A batch here mixes valid span lines (text drawn with lone surrogates, escaped backslashes and valid
pairs; some lines split into `HOPTRACE-PART` pieces, delivered in any order; some lines repeated)
with what must cost only itself: lines nested 10,000 deep, lines with a deep attribute, pieces of
one id that disagree on their total (also across batches: the ingestor lives for the module),
broken spans and junk. After each batch, and again after the same batch is redelivered:

- every valid span has exactly one row, named as sent (lone surrogates read back as U+FFFD);
- ingest returned counts and never raised; the redelivery wrote nothing new;
- every trace summary counts exactly the spans stored for it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.ingest.text import clean_text
from hoptrace_collector.store import Store, open_store
from tests.collector.payloads import document, wrap_document
from tests.reliability.strategies import SMALL_JSON, scaled
from tests.reliability.test_fuzz_collector import IDS, TIMES, broken_span

CASES = scaled({"batches": 150})
DEEP = "[" * 10_000 + "]" * 10_000
#: Text as a handler's data may hold it: lone surrogates of both halves, valid pairs, backslash-u lookalikes.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(categories=["Cs", "Ll", "Nd", "So"]), max_size=8),
    st.sampled_from(["\ud800", "a\udfffb", "\udbff\udfff", "\ud83d\ude00", "\\ud800", "\\\ud800", "\udc00\ud800"]),
)
ATTRIBUTES = st.dictionaries(HOSTILE_TEXT, st.one_of(HOSTILE_TEXT, st.integers(-5, 5), st.booleans()), max_size=4)


@st.composite
def valid_span(draw: st.DrawFn) -> dict[str, Any]:
    trace_id, span_id = draw(IDS)
    start = draw(TIMES)
    span = {"trace_id": trace_id, "span_id": span_id, "parent_id": None, "name": draw(HOSTILE_TEXT),
            "kind": draw(st.sampled_from(wire.KINDS)), "start": start, "end": start + draw(st.integers(0, 10**9)),
            "status": {"code": draw(st.sampled_from(wire.STATUS_CODES)), "message": draw(HOSTILE_TEXT)},
            "attributes": draw(ATTRIBUTES)}
    if draw(st.booleans()):
        span["events"] = [{"name": draw(HOSTILE_TEXT), "time": start, "attributes": draw(ATTRIBUTES)}]
    return span


PART_IDS = st.sampled_from(["0badc0de", "feedface", "cafe0001"])  # never an id the layer draws (16 hex)


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[str], dict[tuple[str, str], str]]:
    """Log messages of one batch, and the valid spans among them: key → name as it must read back."""
    expected: dict[tuple[str, str], str] = {}
    valid: list[str] = []
    hostile: list[str] = []  # what must cost only itself
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.integers(0, 6))
        if kind <= 1:  # valid spans: a line, maybe split into pieces, maybe repeated
            spans = []
            for span in draw(st.lists(valid_span(), min_size=1, max_size=4)):
                if all(span["span_id"] != span_id for _, span_id in expected):
                    spans.append(span)
                    expected[(span["trace_id"], span["span_id"])] = clean_text(span["name"])
            if spans:
                lines = wire.encode(spans, {"service.name": draw(HOSTILE_TEXT)},
                                    max_bytes=draw(st.sampled_from([wire.MAX_LINE_BYTES, 600])))
                valid += lines * draw(st.integers(1, 2))
        elif kind == 2:  # nested too deep: the whole line, or inside one attribute of a good-looking span
            line = wire.encode([draw(valid_span())], {"service.name": "deep"})[0]
            hostile.append(draw(st.sampled_from(["HOPTRACE " + DEEP, line.replace(
                '"attributes":{', f'"attributes":{{"deep":{DEEP},', 1)])))
        elif kind == 3:  # pieces of one id that disagree on their total
            total = draw(st.integers(1, 4))
            hostile.append(f"HOPTRACE-PART {draw(PART_IDS)} {draw(st.integers(1, total))}/{total} "
                           f"{draw(st.sampled_from(['{', '}', '[]', 'x']))}")
        elif kind == 4:
            hostile.append(wire.encode(draw(st.lists(broken_span(), min_size=1, max_size=2)),
                                       {"service.name": "x"})[0])
        elif kind == 5:
            hostile.append("HOPTRACE " + draw(st.one_of(HOSTILE_TEXT, SMALL_JSON.map(str))))
        else:
            hostile.append(draw(HOSTILE_TEXT))
    # Hypothesis likes repeating values: a hostile line reusing a valid span's id would rewrite it legitimately.
    hostile = [m for m in hostile if not any(span_id in m for _, span_id in expected)]
    return draw(st.permutations(valid + hostile)), expected


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Ingestor, Path]]:
    path = tmp_path_factory.mktemp("exactly-once") / "spans.db"
    store = open_store(f"sqlite:///{path}")
    yield store, Ingestor(store), path
    store.close()


def rows(path: Path, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {key: conn.execute("SELECT COUNT(*) FROM spans WHERE trace_id = ? AND span_id = ?", key).fetchone()[0]
                for key in keys}


def summaries_are_exact(path: Path) -> bool:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return not conn.execute("SELECT t.trace_id FROM traces t LEFT JOIN (SELECT trace_id, COUNT(*) n FROM spans "
                                "GROUP BY trace_id) s ON s.trace_id = t.trace_id WHERE t.span_count != s.n").fetchall()


@settings(max_examples=CASES["batches"], deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batches())
def test_every_valid_span_is_stored_exactly_once(stored: tuple[Store, Ingestor, Path],
                                                 case: tuple[list[str], dict[tuple[str, str], str]]) -> None:
    store, ingestor, path = stored
    messages, expected = case
    event = wrap_document(document(messages))
    for delivery in range(2):
        summary = ingestor.ingest(event)
        assert isinstance(summary, dict)
        assert "unstorable" not in summary.get("problems", {})
        assert set(rows(path, list(expected)).values()) <= {1}, summary
        for (trace_id, span_id), name in expected.items():
            assert [s.name for s in store.get_trace(trace_id) if s.span_id == span_id] == [name]
        if delivery == 1:
            assert summary.get("spans_written", 0) == 0, summary
        assert summaries_are_exact(path)
