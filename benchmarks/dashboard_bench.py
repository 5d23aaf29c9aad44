"""Dashboard pages on a 1,000,000-span store, timed as the dashboard's scale test times them.

The store and the timing are the dashboard tests' own (tests/dashboard/bench_store.py builds and
caches the store; tests/dashboard/test_scale.py runs each page through Streamlit's AppTest with the
query caches cleared), reused here so the report and the test measure the same thing. Each page is
rendered `rounds` times for the last hour (the default range) and for the whole 24 hours.
Run with `hoptrace bench dashboard`.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from typing import Any

from benchmarks.stats import summary

TITLE = "5b. Dashboard pages (Streamlit, caches cleared)"
WINDOWS = ("1h", "24h")
QUICK_SPANS = 20_000


def run(rounds: int = 2, warm: int = 0, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    """`rounds` renders per page and range (at most 3); `quick`: a 20,000-span store, the last hour, once."""
    from streamlit import config

    from hoptrace_dashboard.settings import ENV_STORE
    from tests.dashboard import bench_store, test_scale

    config.set_option("logger.level", "error")  # AppTest's "no runtime" warnings, two per page view

    path = bench_store.DEFAULT_PATH.with_name(f"dashboard-{QUICK_SPANS}.db") if quick else bench_store.DEFAULT_PATH
    if not path.is_file():
        log(f"  building the dashboard's benchmark store ({path.name}; cached) ...")
        bench_store.build(path, QUICK_SPANS if quick else bench_store.SPAN_COUNT)
    with closing(sqlite3.connect(path)) as db:
        spans = db.execute("SELECT count(*) FROM spans").fetchone()[0]
        failed = db.execute("SELECT trace_id FROM traces WHERE error_count > 0 ORDER BY start_ns DESC LIMIT 1"
                            ).fetchone()[0]
    windows, rounds = (WINDOWS[:1], 1) if quick else (WINDOWS, min(max(rounds, 1), 3))
    previous = os.environ.get(ENV_STORE)
    os.environ[ENV_STORE] = f"sqlite:///{path}"
    timings: dict[tuple[str, str], list[float]] = {}
    try:
        for window in windows:
            log(f"  {len(test_scale.PAGES)} page views x {rounds} on {spans:,} spans, range {window} ...")
            for page, query in test_scale.PAGES:
                query = {"range": window, **{k: failed if v == "<failed>" else v for k, v in query.items()}}
                label = _label(page, query)
                for _ in range(rounds):
                    timings.setdefault((label, window), []).append(test_scale.render_seconds(page, query))
    finally:
        if previous is None:
            os.environ.pop(ENV_STORE, None)
        else:
            os.environ[ENV_STORE] = previous
    return {"spans": spans, "windows": windows, "rounds": rounds, "budget_s": test_scale.BUDGET_S,
            "pages": {f"{label}|{window}": summary(values) for (label, window), values in timings.items()}}


def _label(page: str, query: dict[str, str]) -> str:
    name = page.split("/")[-1].removesuffix(".py").split("_", 1)[1].replace("_", " ")
    filters = {k: v for k, v in query.items() if k != "range"}
    if "trace" in filters:
        return f"{name}: one flow (a failed trace)"
    return f"{name}: " + ", ".join(f"{k}={v}" for k, v in filters.items()) if filters else name


def markdown(result: dict[str, Any]) -> str:
    windows = result["windows"]
    labels = list(dict.fromkeys(key.split("|")[0] for key in result["pages"]))
    lines = [f"Each page rendered through Streamlit's AppTest with the query caches cleared, on a store of "
             f"{result['spans']:,} spans (24 h of demo-shop traffic), {result['rounds']} time(s) per page and range; "
             f"seconds, median (p95). Budget per page: {result['budget_s']:g} s.", "",
             "| page | " + " | ".join(f"range {w}" for w in windows) + " |", "|---|" + "---|" * len(windows)]
    for label in labels:
        cells = []
        for window in windows:
            row = result["pages"][f"{label}|{window}"]
            cells.append(f"{row['median']:.2f} s ({row['p95']:.2f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
