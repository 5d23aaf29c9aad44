"""The deployed setup, end to end on moto: the real collector handler fills `dynamodb://`, then the CLI's
`hoptrace alerts check` and the dashboard read it with plain AWS credentials, as they would after `sam deploy`.

Nothing here uses the store API to write: spans arrive as CloudWatch Logs subscription batches of what the real
layer prints, through `hoptrace_collector.handler.handler` configured only by `HOPTRACE_STORE`, exactly as the
stack's collector function runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

import hoptrace_collector.handler
from hoptrace_cli.main import main
from hoptrace_collector.store import TraceFilter, open_store
from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN
from tests.collector.payloads import (
    FUNCTION,
    OK_HANDLER,
    end_line,
    report_line,
    start_line,
    subscription_event,
    timeout_line,
    traced_lines,
)
from tests.collector.test_dynamodb_store import credentials  # noqa: F401 (a fixture)
from tests.conftest import load_event
from tests.dashboard.test_pages import PAGES, no_exception, open_page, table_with

pytestmark = pytest.mark.e2e

TIMED_OUT = "8f5a1b1e-0000-4000-8000-0000000000ff"


@pytest.fixture
def collected(moto_endpoint: str, credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    """A fresh table, filled by the collector handler: one traced API request, then a request that timed out."""
    url = f"dynamodb://spans-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto_endpoint}&create=1"
    monkeypatch.setenv("HOPTRACE_STORE", url)
    hoptrace_collector.handler.reset()
    now_ms = int(time.time() * 1000)
    lines = [start_line(), *traced_lines(OK_HANDLER, load_event("apigateway_v1")), end_line(), report_line(init=180.0)]
    deaths = [start_line(TIMED_OUT), timeout_line(TIMED_OUT), end_line(TIMED_OUT),
              report_line(TIMED_OUT, duration=3000.0)]
    try:
        for batch in (lines, deaths):
            summary = hoptrace_collector.handler.handler(subscription_event(
                [(now_ms - 60_000 + i, line) for i, line in enumerate(batch)]))
            assert not summary.get("problems") and summary["invocations_written"] == 1, summary
        yield url
    finally:
        hoptrace_collector.handler.reset()


def test_alerts_check_reads_the_dynamodb_store(collected: str, capsys: pytest.CaptureFixture[str]) -> None:
    # The timed-out request is a platform death: the default rules fire on one within 5 minutes.
    assert main(["alerts", "check", "--store", collected]) == 1
    out = capsys.readouterr().out
    firing = [line for line in out.splitlines() if line.startswith("FIRING")]
    assert len(firing) == 1 and "platform_deaths" in firing[0] and FUNCTION in firing[0], out


def test_the_dashboard_renders_the_overview_and_a_trace_from_dynamodb(collected: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_STORE, collected)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    overview = open_page(PAGES[0])
    no_exception(overview)
    assert {m.label: m.value for m in overview.metric}["Functions"] == "1"
    per_function = table_with(overview, "p95_ms").set_index("function")
    assert per_function.loc[FUNCTION, "invocations"] == 2 and per_function.loc[FUNCTION, "errors"] == 1

    store = open_store(collected)
    traces = store.list_traces(TraceFilter())
    served = next(t for t in traces if t.error_count == 0)
    page = open_page(PAGES[1], {"trace": served.trace_id})
    no_exception(page)
    assert not page.error
    spans = next(w for w in page.selectbox if w.label == "Span").options
    assert len(spans) == len(store.get_trace(served.trace_id))
