"""Collector ingest against its floor, in one interleaved run on one CPU.

Four measurements, taken round-robin so that load on a shared machine falls on all alike:

- **ingest**: realistic subscription payloads (traces of 5-15 spans across ~50 functions, with
  START/END/REPORT lines; benchmarks/collector_data.py) through the real ingest path
  (`Ingestor.ingest_many`: base64, gzip, JSON, wire decode, platform lines, summaries and
  rollups kept, one store write for all payloads) into a fresh SQLite file; and the same
  payloads one `Ingestor.ingest` each (a transaction per payload, as Lambda delivers them);
- **floor**: the very rows the store would write for those spans, inserted by a plain
  `executemany` in one transaction into a fresh file with the same schema (indexes included):
  what the disk and SQLite cost without decoding, merging or summaries;
- **small / large traces**: ingest of the same number of spans in traces of exactly 5 and of
  exactly 1,000 spans, all in invocations of 5 spans (a 1,000-span trace is 200 of them), so
  per-span cost can be compared as traces grow and nothing else changes.

Figures are spans per second of this process's CPU time (the aim is per core, and CPU time is
what a shared machine distorts least) with the wall-clock rate beside it; the median of the rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import collector_data

AIM_SPANS_PER_S = 100_000
AIM_FLOOR_RATIO = 0.8
ONE_BY_ONE = "ingest, a transaction per payload (as on AWS)"


def _one_cpu() -> Callable[[], None]:
    """Pin this process to one CPU (the aim is per core); returns how to undo it."""
    if not hasattr(os, "sched_setaffinity"):
        return lambda: None
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(before)})
    return lambda: os.sched_setaffinity(0, before)


def _fresh_store(folder: Path) -> Any:
    from hoptrace_collector.store import open_store

    return open_store(str(folder / "spans.db"))


def _ingest(events: list[dict[str, Any]], total: int, folder: Path, one_by_one: bool = False) -> tuple[float, float]:
    from hoptrace_collector.ingest.batch import Ingestor

    store = _fresh_store(folder)
    ingestor = Ingestor(store)
    wall, cpu = time.perf_counter(), time.process_time()
    if one_by_one:  # as on AWS: one payload per invocation, a transaction each
        written = sum(ingestor.ingest(event)["spans_written"] for event in events)
    else:
        written = ingestor.ingest_many(events)["spans_written"]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    assert written == total, (written, total)
    return wall, cpu


def floor_rows(spans: int) -> list[tuple[Any, ...]]:
    """The span rows the SQLite store writes for the realistic workload (resource ids resolved)."""
    from hoptrace_collector.store import rules
    from hoptrace_collector.store.sqlite import _span_row

    rows, resources = [], {}
    for invocation in collector_data.invocations(spans, 1, 1_795_593_398_000_000_000, 600 * 1_000_000_000):
        resource_id = resources.setdefault(invocation.function, len(resources) + 1)
        rows += [_span_row(r, rules.span_rank(r), resource_id) for r in collector_data.records(invocation)]
    return rows


def _floor(rows: list[tuple[Any, ...]], folder: Path) -> tuple[float, float]:
    from hoptrace_collector.store.sqlite_schema import SPAN_COLUMNS

    store = _fresh_store(folder)
    conn = store._conn
    sql = f"INSERT INTO spans ({', '.join(SPAN_COLUMNS)}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
    wall, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    return wall, cpu


def run(rounds: int, log: Callable[[str], None], spans: int) -> dict[str, Any]:
    from hoptrace_collector import jsonlib

    workloads = {"ingest": collector_data.subscription_batches(spans),
                 "small traces (5 spans)": collector_data.subscription_batches(spans, seed=2, trace_spans=5),
                 "large traces (1,000 spans)": collector_data.subscription_batches(spans, seed=3, trace_spans=1000)}
    rows = floor_rows(spans)
    log(f"  ingest vs floor: ~{spans:,} spans per workload, {rounds} interleaved round(s) on one CPU "
        f"(JSON: {'orjson' if jsonlib.FAST else 'standard library'}) ...")
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in [*workloads, ONE_BY_ONE, "floor"]}
    undo = _one_cpu()
    try:
        for _ in range(rounds):
            for name in timings:
                folder = Path(tempfile.mkdtemp(prefix="hoptrace-ingest-bench-"))
                try:
                    if name == "floor":
                        timings[name].append(_floor(rows, folder))
                    elif name == ONE_BY_ONE:
                        events, total = workloads["ingest"]
                        timings[name].append(_ingest(events, total, folder, one_by_one=True))
                    else:
                        events, total = workloads[name]
                        timings[name].append(_ingest(events, total, folder))
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
    finally:
        undo()
    workloads[ONE_BY_ONE] = workloads["ingest"]
    counts = {name: workloads[name][1] if name in workloads else len(rows) for name in timings}
    result: dict[str, Any] = {"json": "orjson" if jsonlib.FAST else "json", "rounds": rounds, "cases": {}}
    for name, runs in timings.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        result["cases"][name] = {"spans": counts[name], "batches": len(workloads[name][0]) if name in workloads
                                 else 1, "transactions": len(workloads[name][0]) if name == ONE_BY_ONE else 1,
                                 "spans_per_s": counts[name] / cpu, "wall_spans_per_s": counts[name] / wall,
                                 "us_per_span": cpu / counts[name] * 1e6}
    cases = result["cases"]
    result["floor_ratio"] = cases["ingest"]["spans_per_s"] / cases["floor"]["spans_per_s"]
    result["large_vs_small"] = (cases["large traces (1,000 spans)"]["us_per_span"]
                                / cases["small traces (5 spans)"]["us_per_span"])
    return result


def markdown(result: dict[str, Any]) -> str:
    cases = result["cases"]
    lines = ["| ingest, one CPU | spans | payloads | transactions | spans/s (CPU) | spans/s (wall) "
             "| µs per span (CPU) |", "|---|---|---|---|---|---|---|"]
    for name, case in cases.items():
        label = "plain `executemany` floor, same schema, one transaction" if name == "floor" else name
        lines.append(f"| {label} | {case['spans']:,} | {case['batches']} | {case['transactions']} "
                     f"| {case['spans_per_s']:,.0f} "
                     f"| {case['wall_spans_per_s']:,.0f} | {case['us_per_span']:.1f} |")
    ingest = cases["ingest"]["spans_per_s"]
    lines += ["", f"Ingest / floor: **{result['floor_ratio']:.2f}x** (aim ≥ {AIM_FLOOR_RATIO}x: "
              f"{'met' if result['floor_ratio'] >= AIM_FLOOR_RATIO else 'NOT met'}); ingest "
              f"{ingest:,.0f} spans/s (aim ≥ {AIM_SPANS_PER_S:,}: "
              f"{'met' if ingest >= AIM_SPANS_PER_S else 'NOT met'}); "
              f"per span, 1,000-span traces cost {result['large_vs_small']:.2f}x 5-span traces (aim ≤ 1.0x: "
              f"{'met' if result['large_vs_small'] <= 1.0 else 'NOT met'}). JSON parser: {result['json']}; "
              f"median of {result['rounds']} interleaved round(s)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.collector_ingest [--rounds N] [--spans N]`: this part of `hoptrace bench collector`."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spans", type=int, default=60_000)
    args = parser.parse_args(argv)
    print(markdown(run(args.rounds, print, args.spans)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
