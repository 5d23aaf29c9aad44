"""Injection: span names, attributes and filters full of quotes, SQL, HTML/JS, Markdown and control characters.

They travel the real path — wire lines in a subscription payload, through the collector into SQLite —
and must come back byte for byte (store round trip), be found by the text filter as literal text
(`%`, `_` and `\\` included), leave the database's schema and rows alone, and be shown by the dashboard
as text: verbatim in tables and select boxes, escaped wherever Streamlit renders Markdown, never as HTML.
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
from streamlit.testing.v1 import AppTest

from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import TraceFilter, open_store
from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN
from tests.dashboard.test_pages import PAGES, no_exception, open_page, table_with, widget

HOSTILE = [
    "'; DROP TABLE spans; --",
    "\" OR 1=1; DELETE FROM traces WHERE '1'='1",
    "Robert'); DROP TABLE traces;--",
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(document.cookie)">',
    "**bold** _it_ [click](javascript:alert(1)) `code` # heading | a | b |",
    "{{7*7}} ${7*7} :red[alert] :material/warning: $\\frac{1}{0}$",
    "100% _under_score\\back\\slash",
    "tab\there\nnewline\r\nCR\x00NUL\x1b[31mANSI\x07bell",
    "\u202eevil\u202c ünïcödé ✓ 🙂",
]
MARKUP = set("<>*_[]`#|:$&")
TRACE = "6a1b2c3d" + "4" * 24
SERVICE = "shop<b>svc</b>'--"
START = 1_795_593_398_000_000_000


def span(index: int, text: str) -> dict[str, Any]:
    return {"trace_id": TRACE, "span_id": f"{index + 1:016x}", "parent_id": None if index == 0 else f"{1:016x}",
            "name": text, "kind": "server" if index == 0 else "internal", "start": START + index * 1_000_000,
            "end": START + (index + 1) * 1_000_000,
            "status": {"code": "error", "message": text} if index == 3 else {"code": "ok"},
            "attributes": {"note": text, f"key {text}": index, "list": [text, "plain"]}}


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    db = tmp_path_factory.mktemp("injection") / "spans.db"
    store = open_store(f"sqlite:///{db}")
    spans = [span(i, text) for i, text in enumerate(HOSTILE)]
    document = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/shop",
                "logStream": "s", "subscriptionFilters": ["hoptrace"], "logEvents": [
                    {"id": "1", "timestamp": START // 1_000_000, "message": line}
                    for line in wire.encode(spans, {"service.name": SERVICE, "faas.name": "shop"})]}
    summary = Ingestor(store).ingest({"awslogs": {"data": base64.b64encode(gzip.compress(
        json.dumps(document).encode())).decode()}})
    assert summary["spans_written"] == len(HOSTILE) and "problems" not in summary
    store.close()
    yield db


def test_hostile_text_is_stored_verbatim_and_found_as_literal_text(hostile_store: Path) -> None:
    schema = _schema(hostile_store)
    store = open_store(f"sqlite:///{hostile_store}")
    try:
        # THEN names, status messages and attributes (keys too) come back exactly as sent
        stored = {s.span_id: s for s in store.get_trace(TRACE)}
        for index, text in enumerate(HOSTILE):
            got = stored[f"{index + 1:016x}"]
            assert got.name == text and got.attributes == {"note": text, f"key {text}": index, "list": [text, "plain"]}
            assert got.service == SERVICE
        assert stored[f"{4:016x}"].status_message == HOSTILE[3]
        # AND each text, used as a filter, finds the trace as literal text and nothing else happens
        for text in HOSTILE:
            assert [t.trace_id for t in store.list_traces(TraceFilter(text=text))] == [TRACE], text
            if "\x00" not in text:  # SQLite's LIKE ends a pattern at NUL: a NUL filter over-matches (reported)
                assert store.list_traces(TraceFilter(text=text + "x")) == []  # a wildcard would still match
            for other in (TraceFilter(service=text), TraceFilter(function=text), TraceFilter(request_id=text),
                          TraceFilter(trace_id=text)):
                assert store.list_traces(other) == []
    finally:
        store.close()
    assert _schema(hostile_store) == schema and _rows(hostile_store) == len(HOSTILE)


@pytest.fixture
def dashboard(hostile_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{hostile_store}")
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    return hostile_store


def test_dashboard_search_shows_hostile_text_as_text(dashboard: Path) -> None:
    schema = _schema(dashboard)
    for text in (HOSTILE[0], HOSTILE[4], HOSTILE[7]):
        # WHEN an engineer types it into the text filter (the whole store's time range)
        at = open_page(PAGES[1], {"range": "30d"})
        widget(at.text_input, "Text in span names or attributes").input(text).run()
        no_exception(at)
        # THEN the trace is listed, the filter is in the URL as typed, and nothing renders as markup
        assert list(table_with(at, "root_name")["trace_id"]) == [TRACE]
        assert at.query_params["q"] == text
        _nothing_rendered_as_markup(at)
    # AND the same text arriving in the URL's other filters is harmless too
    at = open_page(PAGES[1], {"range": "30d", "service": HOSTILE[0], "function": HOSTILE[3], "find": HOSTILE[1],
                              "trace": HOSTILE[4], "span": HOSTILE[2]})
    no_exception(at)
    _nothing_rendered_as_markup(at)
    assert _schema(dashboard) == schema and _rows(dashboard) == len(HOSTILE)


def test_dashboard_shows_a_hostile_span_verbatim_and_escaped(dashboard: Path) -> None:
    at = open_page(PAGES[1], {"range": "30d", "trace": TRACE})
    no_exception(at)
    options = widget(at.selectbox, "Span").options
    for index, text in enumerate(HOSTILE):
        span_id = f"{index + 1:016x}"
        # WHEN each hostile span is selected
        widget(at.selectbox, "Span").set_value(span_id).run()
        no_exception(at)
        # THEN its name and attributes are shown exactly, as table cells (text, never rendered)
        facts = table_with(at, "field").set_index("field")["value"]
        attributes = table_with(at, "attribute").set_index("attribute")["value"]
        assert facts["name"] == text and attributes["note"] == text and attributes[f"key {text}"] == str(index)
        assert any(text.strip() in option or " ".join(text.split()) in option for option in options)
        _nothing_rendered_as_markup(at)


def _nothing_rendered_as_markup(at: AppTest) -> None:
    """No element that renders Markdown holds a hostile text unescaped, no HTML is allowed or present."""
    assert not at.get("html")
    assert not any(m.proto.allow_html for m in at.markdown), "a Markdown element allows HTML"
    rendered = [m.value for kind in ("markdown", "caption", "title", "header", "subheader", "warning", "error",
                                     "info", "success") for m in at.get(kind)]
    rendered += [e.proto.label for e in at.expander] + [link.label for link in at.get("page_link")]
    rendered += [m.label for m in at.metric] + [m.proto.help for m in at.metric]
    rendered += [w.label for kind in ("selectbox", "text_input", "number_input", "toggle") for w in at.get(kind)]
    for text in HOSTILE:
        raw = [shown for shown in rendered if MARKUP & set(text) and text in shown]
        assert not raw, f"{text!r} reaches a Markdown-rendering element unescaped: {raw}"


def _schema(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT type, name FROM sqlite_master ORDER BY type, name").fetchall()


def _rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM spans").fetchone()[0])
