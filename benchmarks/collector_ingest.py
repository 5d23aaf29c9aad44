"""Collector ingest against its floor, in one interleaved run on one CPU.

Four measurements, taken round-robin so that load on a shared machine falls on all alike:

- **ingest**: realistic subscription payloads (traces of 5-15 spans across ~50 functions, with
  START/END/REPORT lines; benchmarks/collector_data.py) through the real ingest path
  (`Ingestor.ingest_many`: base64, gzip, JSON, wire decode, platform lines, summaries and
  rollups kept, one store write for all payloads) into a fresh SQLite file; and the same
  payloads one `Ingestor.ingest` each (a transaction per payload, as Lambda delivers them);
- **floor**: the very rows ingest left in the store — spans, invocations, resources, trace
  summaries and listing keys, per-minute rollups, link keys — inserted by a plain `executemany`
  per table in one transaction into a fresh file with the same schema (indexes, triggers):
  what the disk and SQLite cost for those rows without decoding, merging or summing; and, for
  comparison with earlier runs, the span rows alone the same way;
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
SPANS_ONLY = "floor, span rows only"
FLOOR_LABELS = {"floor": "plain `executemany` floor: the same rows of every table, same schema, one transaction",
                SPANS_ONLY: "plain `executemany` of the span rows alone (the floor of earlier runs)"}


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


def floor_rows(events: list[dict[str, Any]], folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row, table by table, that ingest of `events` leaves in a fresh store (the floor writes exactly these)."""
    import sqlite3

    from hoptrace_collector.ingest.batch import Ingestor

    store = _fresh_store(folder)
    Ingestor(store).ingest_many(events)
    store.close()
    conn = sqlite3.connect(folder / "spans.db")
    try:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                   "AND name NOT LIKE 'sqlite_%' AND name <> 'meta' ORDER BY name")]
        return {name: conn.execute(f"SELECT * FROM {name}").fetchall() for name in tables}
    finally:
        conn.close()


def _floor(rows: dict[str, list[tuple[Any, ...]]], folder: Path) -> tuple[float, float]:
    """Plain `INSERT` by `executemany`, one per table, in one transaction (triggers and indexes as the store's)."""
    store = _fresh_store(folder)
    conn = store._conn
    statements = [(f"INSERT INTO {table} VALUES ({', '.join('?' * len(table_rows[0]))})", table_rows)
                  for table, table_rows in rows.items() if table_rows]
    wall, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    for sql, table_rows in statements:
        conn.executemany(sql, table_rows)
    conn.execute("COMMIT")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    return wall, cpu


def run(rounds: int, log: Callable[[str], None], spans: int) -> dict[str, Any]:
    from hoptrace_collector import jsonlib

    workloads = {"ingest": collector_data.subscription_batches(spans),
                 "small traces (5 spans)": collector_data.subscription_batches(spans, seed=2, trace_spans=5),
                 "large traces (1,000 spans)": collector_data.subscription_batches(spans, seed=3, trace_spans=1000)}
    scratch = Path(tempfile.mkdtemp(prefix="hoptrace-ingest-bench-"))
    try:
        rows = floor_rows(workloads["ingest"][0], scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    floors = {"floor": rows, SPANS_ONLY: {"spans": rows["spans"]}}
    log(f"  ingest vs floor: ~{spans:,} spans per workload, {rounds} interleaved round(s) on one CPU "
        f"(JSON: {'orjson' if jsonlib.FAST else 'standard library'}) ...")
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in [*workloads, ONE_BY_ONE, *floors]}
    undo = _one_cpu()
    try:
        for _ in range(rounds):
            for name in timings:
                folder = Path(tempfile.mkdtemp(prefix="hoptrace-ingest-bench-"))
                try:
                    if name in floors:
                        timings[name].append(_floor(floors[name], folder))
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
    counts = {name: workloads[name][1] if name in workloads else len(rows["spans"]) for name in timings}
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
        label = FLOOR_LABELS.get(name, name)
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
