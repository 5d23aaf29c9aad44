"""The README's screenshots of every page, taken in headless Chromium on a store (the newest demo run by default):

    python -m tests.dashboard.screenshots [--store URL] [--out docs] [--zone Europe/Berlin]

The flow shown is the failed trace that crossed the most services, as an on-call engineer
would pick it from the Overview, among those small enough for the log panels to fit in the picture.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hoptrace_cli.demo.rundir import latest_store_url
from hoptrace_collector.store import TraceFilter, open_store
from hoptrace_dashboard.server import start_dashboard
from tests.dashboard import browser

ROOT = Path(__file__).resolve().parents[2]
MAX_SPANS_SHOWN = 60  # spans of the shown flow, joined traces included
CANDIDATES = 100
PAGES = (("overview", "", "Failed traces"), ("traces", "/traces?trace={trace}&span={span}", "Logs of this span"),
         ("service-map", "/map", "Edges"), ("cold-starts", "/cold-starts", "Cold vs warm"),
         ("failures", "/failures", "Dead-letter queues"), ("alerts", "/alerts", "What each rule sees"))


def worst_trace(url: str) -> tuple[str, str]:
    """The failed trace that crossed the most services, among those whose flow (with the traces batches join
    to it) is small enough for the page's log panels to fit in the picture."""
    from hoptrace_dashboard import queries

    store = open_store(url)
    try:
        failed = store.list_traces(TraceFilter(status="error", limit=500))
        if not failed:
            raise SystemExit("no failed trace in this store to show; run `hoptrace demo` first")
        ranked = sorted(failed, key=lambda s: (len(s.services), s.span_count), reverse=True)
        for summary in ranked[:CANDIDATES]:
            spans = queries.trace_spans(store, summary.trace_id)
            if len(spans) <= MAX_SPANS_SHOWN:
                return summary.trace_id, _logged_error(spans)
        return ranked[0].trace_id, ""
    finally:
        store.close()


def _logged_error(spans: list) -> str:  # type: ignore[type-arg]
    """The failed invocation span to select, so the log panel shows what its invocation logged."""
    failed = [s for s in spans if s.status == "error" and s.request_id]
    return failed[0].span_id if failed else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--zone", default="Europe/Berlin", help="the browser's time zone in the pictures")
    args = parser.parse_args(argv)
    url = args.store or latest_store_url()
    if url is None:
        raise SystemExit("no store: give --store or run `hoptrace demo` first")
    trace, span = worst_trace(url)
    os.environ["TZ"] = args.zone  # Chromium reports this zone to the dashboard
    with start_dashboard(url, port=0) as dashboard, browser.chromium() as driver:
        for name, path, text in PAGES:
            driver.set_window_size(1500, 1000)
            driver.get(dashboard.url + path.format(trace=trace, span=span))
            browser.wait_for_text(driver, text)
            if browser.exceptions(driver):
                raise SystemExit(f"{name}: {browser.exceptions(driver)}")
            target = args.out / f"dashboard-{name}.png"
            browser.full_page_screenshot(driver, target, max_height=4400)
            print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
