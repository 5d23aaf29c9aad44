"""In a real browser, on the demo's own data: Overview → a failed trace's flow, with no Streamlit exception box.

The demo shop runs for a few seconds (`hoptrace demo`, headless, its own data folder), then
`start_dashboard` serves its store and headless Debian Chromium clicks through it. The
screenshot of the flow is kept in pytest's temporary folder (`HOPTRACE_SCREENSHOTS=DIR`
writes it there instead).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By

from hoptrace_cli.demo.rundir import latest_store_url
from hoptrace_dashboard.server import Dashboard, start_dashboard
from tests.dashboard import browser

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    data_dir = tmp_path_factory.mktemp("demo")
    command = [sys.executable, "-m", "hoptrace_cli.main", "demo", "--duration", "6", "--no-dashboard", "--port", "0",
               "--data-dir", str(data_dir), "--seed", "11", "--poison-rate", "0.2", "--drain", "20"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"hoptrace demo failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    url = latest_store_url(data_dir)
    assert url is not None
    return url


@pytest.fixture(scope="module")
def dashboard(demo_store: str) -> Iterator[Dashboard]:
    with start_dashboard(demo_store, port=0) as running:
        yield running


@pytest.fixture(scope="module")
def driver():  # type: ignore[no-untyped-def]
    problem = browser.missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    with browser.chromium() as opened:
        yield opened


def test_overview_to_a_failed_trace_flow(dashboard: Dashboard, driver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the Overview of the demo's run
    driver.get(dashboard.url)
    browser.wait_for_text(driver, "Failed traces")
    assert not browser.exceptions(driver)
    # WHEN the first failed trace is clicked (the demo's traffic always has failed traces: poison orders,
    # failing notifications; the list renders after its heading, so wait for the links themselves)
    trace_id = browser.wait_until(driver, _click_first_failed_trace, "a failed trace's link on the Overview")
    # THEN its flow is shown, with its hops, waterfall and errors, and the URL names the trace
    browser.wait_for_text(driver, "Flow of trace")
    browser.wait_for_text(driver, "Errors")
    assert parse_qs(urlsplit(driver.current_url).query)["trace"] == [trace_id]
    browser.wait_for_text(driver, trace_id)
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Hops" in body and "Waterfall" in body
    browser.wait_for_charts(driver)
    shot = Path(os.environ.get("HOPTRACE_SCREENSHOTS", tmp_path)) / "failed-trace-flow.png"
    browser.full_page_screenshot(driver, shot)
    assert shot.stat().st_size > 20_000
    assert not browser.exceptions(driver), browser.exceptions(driver)


def _click_first_failed_trace(driver) -> str | None:  # type: ignore[no-untyped-def]
    """Click the first failed trace's link once it is there; its trace id, or None while not yet rendered."""
    failed = [a for a in driver.find_elements(By.CSS_SELECTOR, "a[href*='trace=']") if "error" in a.text]
    if not failed:
        return None
    trace_id = parse_qs(urlsplit(failed[0].get_attribute("href")).query)["trace"][0]
    failed[0].click()
    return trace_id


def test_every_page_opens_without_an_exception_box(dashboard: Dashboard, driver) -> None:  # type: ignore[no-untyped-def]
    for path, text in (("/traces", "Search"), ("/map", "Edges"), ("/cold-starts", "Cold vs warm"),
                       ("/failures", "Dead-letter queues"), ("/alerts", "What each rule sees")):
        driver.get(dashboard.url + path)
        browser.wait_for_text(driver, text)
        assert not browser.exceptions(driver), (path, browser.exceptions(driver))


def test_a_pasted_trace_link_survives_the_token_prompt(demo_store: str, driver) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a dashboard shared with a token, and a trace link pasted into a fresh browser session
    from hoptrace_collector.store import TraceFilter, open_store

    store = open_store(demo_store)
    try:
        trace_id = store.list_traces(TraceFilter(limit=1))[0].trace_id
    finally:
        store.close()
    with start_dashboard(demo_store, port=0, token="browser-t0ken") as shared:
        driver.delete_all_cookies()
        driver.get(f"{shared.url.rstrip('/')}/traces?trace={trace_id}")
        browser.wait_for_text(driver, "Access token")
        # WHEN the token is typed and sent
        field = driver.find_element(By.CSS_SELECTOR, "input[type='password']")
        field.send_keys("browser-t0ken")
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if "Open the dashboard" in b.text).click()
        # THEN the trace's own page opens, its URL and query intact (it used to become the Overview)
        browser.wait_until(driver, lambda d: trace_id[:8] in d.find_element(By.TAG_NAME, "body").text,
                           "the linked trace shown")
        parts = urlsplit(driver.current_url)
        assert parts.path.rstrip("/").endswith("/traces") and parse_qs(parts.query)["trace"] == [trace_id]
        assert not browser.exceptions(driver)
