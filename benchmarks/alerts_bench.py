"""The alert evaluator's cost on a store of 1,000,000 spans: one full evaluation of every rule on every function.

The store is the dashboard benchmark's (tests/dashboard/bench_store.py: demo-shop traffic over 24 hours,
cached under .hoptrace/bench/; built on first use, which takes minutes). Each round evaluates at the time
of the newest span and stores its moves in a fresh state table (in a temporary file, so the cached store
is never written), so every round does the same work: all queries, every finding, the examples of the
ones that breach, the commit. Notifications are not sent (their cost is the network's).

Two rule sets: the shipped defaults (5-minute windows against the 30 minutes before) and hour-long
windows (against the 6 hours before), because the cost follows how much traffic the windows hold, not
how large the store is. Run with `hoptrace bench alerts` (or `python -m benchmarks.alerts_bench`).
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from hoptrace_alerts.config import AlertConfig, load
from hoptrace_alerts.evaluator import Evaluator
from hoptrace_alerts.states.sqlite import SqliteStateStore
from hoptrace_collector.store import open_store

TITLE = "Alert evaluator (one full evaluation)"
QUICK_SPANS = 20_000  # the dashboard benchmark's quick store, shared
RULE_SETS = {"defaults (5 min vs 30 min)": "", "hourly (1 h vs 6 h)": "[defaults]\nwindow_s = 3600\n"}


class CountingStore:
    """The store, counting the queries the evaluator asks of it."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attribute(*args, **kwargs)
        return counted


def _store_path(log: Callable[[str], None], quick: bool) -> Path:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.dashboard import bench_store

    path = bench_store.DEFAULT_PATH.with_name(f"dashboard-{QUICK_SPANS}.db") if quick else bench_store.DEFAULT_PATH
    if not path.is_file():
        log(f"  building the benchmark store ({path.name}; cached; the 1M one takes minutes) ...")
        bench_store.build(path, QUICK_SPANS if quick else bench_store.SPAN_COUNT)
    return path


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]


def _evaluate_once(store: Any, config: AlertConfig, now_ns: int, workdir: Path, round_: int) -> tuple[float, Any]:
    states = SqliteStateStore(workdir / f"state-{round_}.db")
    try:
        evaluator = Evaluator(store, states, config)
        started = time.perf_counter()
        evaluation = evaluator.evaluate(now_ns)
        evaluator.commit(evaluation)
        return (time.perf_counter() - started) * 1000, evaluation
    finally:
        states.close()


def run(rounds: int = 15, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    """`rounds` whole evaluations per rule set, as the scheduled function runs them; `quick`: 3 on a 20,000-span
    store, to prove the machinery."""
    path = _store_path(log, quick)
    rounds = 3 if quick else max(rounds, 1)
    raw = open_store(f"sqlite:///{path}")
    store = CountingStore(raw)
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            span_count, now_ns = db.execute("SELECT count(*), max(start_ns) FROM spans").fetchone()
        rows = []
        with tempfile.TemporaryDirectory(prefix="hoptrace-alerts-bench-") as tmp:
            for label, toml in RULE_SETS.items():
                config = load(toml, environ={}) if toml else AlertConfig()
                _evaluate_once(store, config, now_ns, Path(tmp), -1)  # warms SQLite's page cache
                store.calls.clear()
                times, evaluation = [], None
                for round_ in range(rounds):
                    elapsed, evaluation = _evaluate_once(store, config, now_ns, Path(tmp), round_)
                    times.append(elapsed)
                assert evaluation is not None
                queries = sum(store.calls.values()) / rounds
                log(f"  {label}: median {statistics.median(times):.1f} ms over {rounds} evaluations")
                rows.append({"rules": label, "functions": len(raw.functions()), "alerts": len(evaluation.alerts),
                             "firing": len(evaluation.firing), "queries": queries,
                             "median_ms": statistics.median(times), "p95_ms": _p95(times)})
    finally:
        raw.close()
    return {"spans": span_count, "rounds": rounds, "rows": rows, "store": str(path)}


def markdown(result: dict[str, Any]) -> str:
    lines = [f"One full evaluation (every rule on every function, transitions stored) on a SQLite store of "
             f"{result['spans']:,} spans covering 24 hours, {result['rounds']} rounds each. The cost follows the "
             "traffic inside the windows, not the size of the store.", "",
             "| rules | functions | alerts evaluated | firing | store queries | median | p95 |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['rules']} | {r['functions']} | {r['alerts']} | {r['firing']} | {r['queries']:.0f} | "
              f"{r['median_ms']:.1f} ms | {r['p95_ms']:.1f} ms |" for r in result["rows"]]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run(quick="--quick" in sys.argv)))
