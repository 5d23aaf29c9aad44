"""The collector: ingest throughput (SQLite and DynamoDB on moto) and queries on a 1,000,000-span store.

Run with `hoptrace bench collector` (or `python -m benchmarks.collector_bench`).

1. Ingest against its floor (benchmarks/collector_ingest.py): realistic subscription payloads
   through the real handler path into a fresh SQLite file, the plain-`executemany` floor of the
   same rows and schema, their ratio, and ingest of 5-span and 1,000-span traces; one CPU,
   interleaved rounds.
2. DynamoDB: the same path into a table on moto's server (benchmarks/collector_dynamo.py),
   with the capacity units and item sizes the writes would be billed for on AWS.
3. Queries on a 1,000,000-span store (50 functions, traces of 5-15 spans over 24 hours, cold
   starts and errors), built once and cached in .hoptrace/bench/ by generator and schema
   version: get one trace, list the newest 100 traces of a service, function stats of the last
   hour; median and p95.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import collector_data
from benchmarks.stats import p95

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".hoptrace" / "bench"
STORE_SPANS = 1_000_000
INGEST_SPANS = 60_000
DYNAMO_SPANS = 3_000
HOUR_NS = 3600 * 10**9


def big_store(log: Callable[[str], None], spans: int = STORE_SPANS) -> Path:
    """The cached store of `spans` spans (1,000,000: built on first use, ~1 minute)."""
    from hoptrace_collector.store import open_store
    from hoptrace_collector.store.sqlite_schema import SCHEMA_VERSION

    size = "1m" if spans == 1_000_000 else str(spans)
    path = CACHE / f"collector-{size}-g{collector_data.GENERATOR_VERSION}-s{SCHEMA_VERSION}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    log(f"  building the {spans:,}-span store (cached as {path.relative_to(ROOT)}) ...")
    started = time.perf_counter()
    store = open_store(str(partial))
    batch: list[Any] = []
    end = (time.time_ns() // HOUR_NS) * HOUR_NS
    for invocation in collector_data.invocations(spans, seed=42, start_ns=end - 24 * HOUR_NS,
                                                 spread_ns=24 * HOUR_NS):
        batch.extend(collector_data.records(invocation))
        if len(batch) >= 20_000:
            store.write(batch)
            batch = []
    store.write(batch)
    store.close()
    connection = sqlite3.connect(partial)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("ANALYZE")
    connection.close()
    partial.rename(path)
    log(f"  built in {time.perf_counter() - started:.0f} s")
    return path


def queries(rounds: int, log: Callable[[str], None], store_spans: int = STORE_SPANS) -> dict[str, Any]:
    from hoptrace_collector.store import TraceFilter, open_store

    path = big_store(log, store_spans)
    store = open_store(str(path))
    connection = sqlite3.connect(path)
    spans = connection.execute("SELECT count(*) FROM spans").fetchone()[0]
    newest = connection.execute("SELECT max(start_ns) FROM traces").fetchone()[0]
    rng = random.Random(1)
    trace_ids = [row[0] for row in connection.execute("SELECT trace_id FROM traces ORDER BY trace_id")]
    services = store.functions()
    connection.close()
    timings: dict[str, list[float]] = {}

    def timed(name: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = call()
        timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result

    log(f"  queries on {spans:,} spans / {len(trace_ids):,} traces ...")
    for _ in range(2):  # first touches: the page cache, not the store, would be measured
        store.list_traces(TraceFilter(service=services[0]))
        store.get_trace(trace_ids[0])
    sizes = []
    for _ in range(20 * rounds):
        sizes.append(len(timed("get one trace", lambda: store.get_trace(rng.choice(trace_ids)))))
    for _ in range(5 * rounds):
        for service in rng.sample(services, 4):
            found = timed("newest 100 traces of a service", lambda s=service: store.list_traces(
                TraceFilter(service=s, limit=100)))
            assert len(found) == 100
    for _ in range(3 * rounds):
        timed("newest 100 traces, errors only", lambda: store.list_traces(TraceFilter(status="error", limit=100)))
        timed("newest 100 cold-start spans", lambda: store.spans(cold_starts_only=True, limit=100))
    for _ in range(rounds):
        stats = timed("function stats, last hour, 1-min buckets", lambda: store.function_stats(
            since_ns=newest - HOUR_NS, until_ns=newest + 1, bucket_s=60))
    store.close()
    return {"spans": spans, "traces": len(trace_ids), "spans_per_trace": statistics.mean(sizes),
            "stats_rows": len(stats), "db_mb": path.stat().st_size / 1e6,
            "queries": {name: {"median_ms": statistics.median(v), "p95_ms": p95(v), "runs": len(v)}
                        for name, v in timings.items()}}


def run(rounds: int = 3, warm: int = 0, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    """`rounds`: ingest passes (at most 3) and a multiplier of query repetitions; `warm` is unused.

    `quick` proves the machinery on small inputs (CI): one pass, a 50,000-span store.
    """
    from benchmarks import collector_dynamo, collector_ingest

    rounds = 1 if quick else max(1, rounds)
    scale = 20 if quick else 1
    result: dict[str, Any] = {"ingest": collector_ingest.run(min(rounds, 3), log, INGEST_SPANS // scale)}
    result["dynamodb"] = collector_dynamo.run(DYNAMO_SPANS // scale, log)
    result["store"] = queries(min(rounds, 5), log, STORE_SPANS // scale)
    return result


TITLE = "5a. Collector: ingest and store queries"
AIMS = {"get one trace": 50.0, "newest 100 traces of a service": 200.0}


def markdown(result: dict[str, Any]) -> str:
    ingest_result, dynamo, store = result["ingest"], result["dynamodb"], result["store"]
    from benchmarks import collector_ingest

    lines = [
        collector_ingest.markdown(ingest_result),
        "",
        f"DynamoDB on moto's server, {dynamo['spans']:,} spans: {dynamo['spans_per_s']:,.0f} spans/s "
        f"({1e6 / dynamo['spans_per_s']:.0f} µs per span, wall).",
        "",
        f"DynamoDB per invocation (layout 2, on-demand, from the measured items; {dynamo['spans_per_invocation']:.2f} "
        f"spans and {dynamo['log_lines_per_invocation']:.0f} log lines each, {dynamo['invocations_per_batch']:.1f} "
        f"per batch): {dynamo['write_units_per_invocation']:.2f} write units = "
        f"${dynamo['write_cost_per_million']:.2f} per million invocations, {dynamo['read_units_per_invocation']:.2f} "
        f"read units = ${dynamo['read_cost_per_million']:.2f}, {dynamo['storage_gb_per_million']:.2f} GB = "
        f"${dynamo['storage_cost_per_million_month']:.2f} per month stored. Mean item bytes: "
        + ", ".join(f"{kind} {size}" for kind, size in dynamo["item_bytes"].items()) + ". Write units per invocation: "
        + ", ".join(f"{kind} {units:.2f}" for kind, units in dynamo["write_units_per_invocation_by_kind"].items())
        + ". All-in cost per million invocations: `hoptrace bench aws`.",
        "",
        f"| query on {store['spans']:,} spans ({store['traces']:,} traces, {store['db_mb']:.0f} MB) "
        "| median | p95 | runs | aim |",
        "|---|---|---|---|---|",
    ]
    for name, q in store["queries"].items():
        aim = AIMS.get(name)
        verdict = f"< {aim:.0f} ms {'met' if q['p95_ms'] < aim else 'NOT met'}" if aim else "-"
        lines.append(f"| {name} | {q['median_ms']:.1f} ms | {q['p95_ms']:.1f} ms | {q['runs']} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(markdown(run(args.rounds, quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
