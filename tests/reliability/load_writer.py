"""A collector writing at full speed into a SQLite store, in a process of its own (the dashboard load test).

    python -m tests.reliability.load_writer sqlite:////tmp/spans.db 30

It feeds the real ingest path (`Ingestor.ingest` on CloudWatch Logs subscription payloads) with the
collector benchmark's realistic workload, new traces every round and timed within the last ten
minutes (so the dashboard's default range shows them), until the time is up or SIGTERM arrives.
It prints `ready` once the first round is stored, and a JSON summary of what it wrote when it stops.
"""

from __future__ import annotations

import json
import signal
import sys
import time

from benchmarks.collector_data import subscription_batches
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store

ROUND_SPANS = 1500


def main(url: str, seconds: float) -> None:
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    store = open_store(url)
    ingestor = Ingestor(store)
    started, spans, batches, rounds, slowest = time.monotonic(), 0, 0, 0, 0.0
    try:
        while not stopping and time.monotonic() - started < seconds:
            events, _ = subscription_batches(ROUND_SPANS, seed=rounds, start_ns=time.time_ns() - 620 * 10**9)
            for event in events:
                begun = time.perf_counter()
                spans += ingestor.ingest(event)["spans_written"]
                slowest = max(slowest, time.perf_counter() - begun)
                batches += 1
            if rounds == 0:
                print("ready", flush=True)
            rounds += 1
    finally:
        store.close()
    elapsed = time.monotonic() - started
    print(json.dumps({"spans": spans, "batches": batches, "seconds": round(elapsed, 2),
                      "spans_per_s": round(spans / elapsed), "slowest_batch_s": round(slowest, 3)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
