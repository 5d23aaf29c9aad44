"""A store of about 1,000,000 spans of shop traffic, for timing the dashboard's pages where it matters.

Written through the Store API in batches (as the collector would), spread over the 24 hours
before it was built, and cached under `.hoptrace/bench/` because building it takes minutes:

    python -m tests.dashboard.bench_store [--spans 1000000] [--out .hoptrace/bench/dashboard-1m.db]

The mix follows the demo's defaults: 3% cold starts per invocation, 10% declined payments,
2% poison orders, 20% notifications retried, a few mixed batches, timeouts and OOM deaths.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from hoptrace_collector.store import open_store
from tests.dashboard import shop

ROOT = Path(__file__).resolve().parents[2]
#: `HOPTRACE_BENCH_STORE` names another place for it (a store already built elsewhere, reused).
DEFAULT_PATH = Path(os.environ.get("HOPTRACE_BENCH_STORE") or ROOT / ".hoptrace" / "bench" / "dashboard-1m.db")
SPAN_COUNT = 1_000_000
HOURS = 24


def traffic(rng: random.Random, ids: shop.Ids, t0: int) -> shop.Records:
    """One or a few requests starting at t0, chosen by the mix above."""
    roll = rng.random()
    if roll < 0.01:
        first = shop.order_flow(t0, shop.Flow(order="b1", batched=True), ids)
        second = shop.order_flow(t0 + 3 * shop.MS, shop.Flow(order="b2", batched=True), ids)
        batch = shop.mixed_batch(t0 + 80 * shop.MS, [shop.publish_span(first), shop.publish_span(second)], ids)
        first.extend(second)
        first.extend(batch)
        return first
    if roll < 0.012:
        return shop.timed_out_report(t0, ids)
    if roll < 0.013:
        return shop.out_of_memory(t0, ids)
    cold = frozenset(fn for fn in shop.FUNCTIONS if rng.random() < 0.03)
    return shop.order_flow(t0, shop.Flow(order=f"o-{rng.getrandbits(32)}", cold=cold, declined=rng.random() < 0.10,
                               poison=rng.random() < 0.02, notify_retry=rng.random() < 0.20,
                               payment_ms=rng.expovariate(1 / 40), init_ms=rng.uniform(120, 450)), ids)


def build(path: Path, spans: int = SPAN_COUNT, batch_spans: int = 20_000) -> None:
    rng = random.Random(7)
    ids = shop.Ids(7)
    end = time.time_ns()
    start = end - HOURS * 3600 * 1_000_000_000
    per_flow = 17  # spans of an average flow, to spread flows evenly over the window
    step = (end - start) // (spans // per_flow)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building.db")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{tmp}")
    written, t, batch, began = 0, start, shop.Records(), time.monotonic()
    try:
        while written + len(batch.spans) < spans:
            batch.extend(traffic(rng, ids, t))
            t += int(step * rng.uniform(0.5, 1.5))
            if len(batch.spans) >= batch_spans:
                store.write(batch.spans, batch.invocations, batch.dlq)
                written += len(batch.spans)
                batch = shop.Records()
                print(f"\r{written:>9,} spans  {time.monotonic() - began:5.0f} s", end="", file=sys.stderr)
        store.write(batch.spans, batch.invocations, batch.dlq)
        written += len(batch.spans)
    finally:
        store.close()
    print(f"\r{written:>9,} spans  {time.monotonic() - began:5.0f} s  -> {path}", file=sys.stderr)
    tmp.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=SPAN_COUNT)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    build(args.out, args.spans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
