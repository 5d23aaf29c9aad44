"""Dashboard pages on a 1,000,000-span store, timed as the dashboard's scale test times them.

The store and the timing are the dashboard tests' own (tests/dashboard/bench_store.py builds and
caches the store; tests/dashboard/test_scale.py runs each page through Streamlit's AppTest with the
query caches cleared), reused here so the report and the test measure the same thing. Each page is
rendered `rounds` times for the last hour (the default range) and for the whole 24 hours, its
wall-clock and CPU time both kept (on a machine busy with other work the wall clock is mostly
waiting). The store's two lookups every trace view and the traces page start from (one trace,
the newest 100 traces) are timed on their own, in milliseconds. Run with `hoptrace bench dashboard`;
`HOPTRACE_BENCH_STORE` reuses a store built elsewhere.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from benchmarks.stats import summary

TITLE = "5b. Dashboard pages (Streamlit, caches cleared)"
WINDOWS = ("1h", "24h")
QUICK_SPANS = 20_000
LOOKUP_REPEATS = 50
LOOKUP_BUDGET_MS = 5.0


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
    cpus: dict[tuple[str, str], list[float]] = {}
    try:
        for window in windows:
            log(f"  {len(test_scale.PAGES)} page views x {rounds} on {spans:,} spans, range {window} ...")
            for page, query in test_scale.PAGES:
                query = {"range": window, **{k: failed if v == "<failed>" else v for k, v in query.items()}}
                label = _label(page, query)
                for _ in range(rounds):
                    wall, cpu = test_scale.render_times(page, query)
                    timings.setdefault((label, window), []).append(wall)
                    cpus.setdefault((label, window), []).append(cpu)
    finally:
        if previous is None:
            os.environ.pop(ENV_STORE, None)
        else:
            os.environ[ENV_STORE] = previous
    return {"spans": spans, "windows": windows, "rounds": rounds, "budget_s": test_scale.BUDGET_S,
            "pages": {f"{label}|{window}": summary(values) for (label, window), values in timings.items()},
            "cpu": {f"{label}|{window}": summary(values) for (label, window), values in cpus.items()},
            "lookups": lookups(f"sqlite:///{path}")}


def lookups(url: str, repeats: int = LOOKUP_REPEATS) -> dict[str, dict[str, dict[str, float]]]:
    """Milliseconds (wall, CPU) of the store calls behind a trace view and the traces page: one trace by id
    (a different trace each time), the newest 100 traces, the newest 100 of one service."""
    from hoptrace_collector.store import TraceFilter, open_store

    store = open_store(url)
    try:
        newest = store.list_traces(TraceFilter(limit=repeats))
        service = newest[0].root_service
        calls = {"one trace (get_trace)": [lambda s=s: store.get_trace(s.trace_id) for s in newest],
                 "newest 100 traces": [lambda: store.list_traces(TraceFilter(limit=100))] * repeats,
                 "newest 100 traces of a service": [
                     lambda: store.list_traces(TraceFilter(service=service, limit=100))] * repeats}
        out = {}
        for name, runs in calls.items():
            walls, cpus = [], []
            for call in runs:
                started, cpu = time.perf_counter(), time.process_time()
                call()
                walls.append((time.perf_counter() - started) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            out[name] = {"wall": summary(walls), "cpu": summary(cpus)}
        return out
    finally:
        store.close()


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
             f"seconds, median: wall clock / CPU. Budget per page: {result['budget_s']:g} s.", "",
             "| page | " + " | ".join(f"range {w}" for w in windows) + " |", "|---|" + "---|" * len(windows)]
    for label in labels:
        cells = []
        for window in windows:
            wall, cpu = result["pages"][f"{label}|{window}"], result["cpu"][f"{label}|{window}"]
            cells.append(f"{wall['median']:.2f} / {cpu['median']:.2f} s")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"Store lookups, {LOOKUP_REPEATS} calls each; milliseconds, median (p95). "
              f"Budget: {LOOKUP_BUDGET_MS:g} ms.", "", "| lookup | wall clock | CPU |", "|---|---|---|"]
    for name, row in result["lookups"].items():
        lines.append(f"| {name} | {row['wall']['median']:.2f} ({row['wall']['p95']:.2f}) | "
                     f"{row['cpu']['median']:.2f} ({row['cpu']['p95']:.2f}) |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
