"""The dashboard stays usable while a collector writes into its store at full speed.

Another process runs the real ingest path flat out (`load_writer.py`: subscription payloads through
`Ingestor` into SQLite, new traces every round). Meanwhile every page is rendered through Streamlit's
AppTest with the query caches cleared before each render (so each one really asks the store), a
trace is opened, and a running dashboard server (`start_dashboard`) is fetched over HTTP. WAL mode
is what makes this work: readers see the last committed batch and never wait for the writer.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit

from hoptrace_dashboard.server import start_dashboard
from hoptrace_dashboard.settings import ENV_STORE, ENV_TOKEN
from tests.dashboard.test_pages import PAGES, no_exception, open_page
from tests.reliability.cloudapps import ROOT

pytestmark = pytest.mark.e2e

ROUNDS = 2
#: Rendering while the writer writes may take this many times as long as the same renders with it paused: readers
#: that waited for the writer (no WAL, a lock held across a batch) would take the writer's batches on top of
#: their own work, and fail with "database is locked" once the busy timeout ran out.
SLOWDOWN = 2.0
#: … and no single render, nor an HTTP fetch, may take longer than this many times the slowest paused render.
STALL = 3.0


class Writer:
    """The writer process; `pause()`/`resume()` stop and continue it (SIGSTOP/SIGCONT), `stop()` ends it and
    returns its own figures (spans, batches, spans/s, slowest batch)."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.reliability.load_writer", url, "1800"],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> dict[str, Any]:
        if self.process.poll() is None:
            self.resume()
            self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return {**json.loads(out.splitlines()[-1]), "returncode": self.process.returncode}


@pytest.fixture
def busy_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Writer]]:
    """A store that a separate process keeps writing into, and that process."""
    url = f"sqlite:///{tmp_path / 'spans.db'}"
    writer = Writer(url)
    monkeypatch.setenv(ENV_STORE, url)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    try:
        yield url, writer
    finally:
        writer.stop()


@pytest.mark.timeout(900)  # 28 page renders of several seconds each at load 40
def test_pages_render_in_bounded_time_while_the_collector_writes_flat_out(
        busy_store: tuple[str, Writer]) -> None:
    """Bounded relative to a reference taken in the same run: each page is rendered once with the writer paused
    (SIGSTOP) and once with it writing, back to back on the same store and under the same machine load (the order
    alternates by round, so neither side always sees the bigger store). An absolute bound measured how busy the
    machine was (a page took 12.7 s at load 50 with nothing wrong); the ratio measures what WAL promises."""
    url, writer = busy_store
    paused: dict[str, list[float]] = {}
    writing: dict[str, list[float]] = {}
    path = Path(url.removeprefix("sqlite:///"))
    counts = [_spans(path)]
    # WHEN every page is rendered, again and again, against the store being written, and with the writer paused
    for round_ in range(ROUNDS):
        trace_id = _newest_trace(path)
        for page, query in [*((page, None) for page in PAGES), (PAGES[1], {"trace": trace_id})]:
            name = page if query is None else "traces?trace="
            for write in ((False, True) if round_ % 2 == 0 else (True, False)):
                if not write:
                    writer.pause()
                try:
                    (writing if write else paused).setdefault(name, []).append(_render(page, query))
                finally:
                    writer.resume()
            counts.append(_spans(path))
    # AND a running dashboard server is asked for its page and health over HTTP
    fetches = []
    slowest_paused = max(t for times in paused.values() for t in times)
    with start_dashboard(url, port=0) as dashboard:
        for _ in range(10):
            for path_ in ("/", "/_stcore/health"):
                begun = time.perf_counter()
                with urllib.request.urlopen(dashboard.url + path_, timeout=STALL * slowest_paused) as response:
                    assert response.status == 200
                fetches.append(time.perf_counter() - begun)
        counts.append(_spans(path))
    figures = writer.stop()
    # THEN the writer really was writing throughout, and never failed
    assert counts == sorted(counts) and counts[-1] > counts[0], counts
    assert len(set(counts)) == len(counts), f"the writer stalled between renders: {counts}"
    everything = [t for times in writing.values() for t in times]
    reference = [t for times in paused.values() for t in times]
    print(f"\nrenders under write load: {len(everything)} renders, median {statistics.median(everything):.2f} s, "
          f"max {max(everything):.2f} s, sum {sum(everything):.1f} s (writer paused: median "
          f"{statistics.median(reference):.2f} s, max {slowest_paused:.2f} s, sum {sum(reference):.1f} s); "
          "per page (max writing/paused): "
          + ", ".join(f"{page.rsplit('/', 1)[-1]} {max(times):.2f}/{max(paused[page]):.2f}"
                      for page, times in writing.items())
          + f"; HTTP max {max(fetches) * 1000:.0f} ms; store grew {counts[0]} -> {counts[-1]} spans; "
          f"load average {os.getloadavg()[0]:.1f}")
    # AND rendering beside the writer took at most SLOWDOWN times as long as without it, with no render stalled
    assert sum(everything) <= SLOWDOWN * sum(reference)
    assert max(everything) <= STALL * slowest_paused and max(fetches) <= STALL * slowest_paused
    assert figures["returncode"] == 0 and figures["spans"] > 0
    print(f"writer: {figures}")


def _render(page: str, query: dict[str, str] | None = None) -> float:
    """Seconds to render `page` with every cached query result dropped first; fails on any error shown."""
    streamlit.cache_data.clear()
    begun = time.perf_counter()
    at = open_page(page, query)
    elapsed = time.perf_counter() - begun
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    return elapsed


def _spans(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM spans").fetchone()[0])


def _newest_trace(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return str(conn.execute("SELECT trace_id FROM traces ORDER BY start_ns DESC LIMIT 1").fetchone()[0])
