"""What hoptrace costs on AWS per million traced invocations, from measured bytes, CPU time and DynamoDB calls.

Run with `python -m benchmarks.aws_cost` (starts a moto server; about a minute).

Measured here: the real collector handler (`hoptrace_collector.handler.handler`, configured only by
`HOPTRACE_STORE`, as the stack runs it) ingests realistic subscription batches (benchmarks/collector_data.py:
traces of 5-15 spans over 2-4 functions) into a `dynamodb://` table on moto's server. For each batch size we
record this process's CPU time (decode, records, boto3 request building; moto's own work runs in its own
process and is not counted) and the number of DynamoDB API calls the batch made.

Modelled (every assumption is a constant below): Lambda's billed duration per batch is the CPU time scaled to
the CPU share a 512 MB function gets, plus one in-region DynamoDB round trip per call. Prices: us-east-1,
on demand, 2026-11.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from typing import Any

from benchmarks import collector_data

MEMORY_GB = 0.5  # the stack's collector: MemorySize 512
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
DYNAMODB_CALL_S = 0.010  # assumed mean in-region latency of one DynamoDB call (BatchWriteItem of 25: ~10-20 ms)
GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
LAMBDA_REQUEST = 0.20 / 1_000_000
LOGS_INGEST_PER_GB = 0.50  # CloudWatch Logs standard ingestion, first tier (GB = 2^30 bytes)
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts per event on top of the message
WRITE_UNITS_PER_SPAN = 3.97  # README "Collector": measured on the same workload (benchmarks/collector_dynamo.py)
READ_UNITS_PER_SPAN = 0.19
STORAGE_GB_PER_MILLION_SPANS = 1.44
WRITE_PRICE, READ_PRICE, STORAGE_PRICE = 1.25 / 1e6, 0.25 / 1e6, 0.25
LINES_PER_INVOCATION = 4  # START, HOPTRACE, END, REPORT in collector_data's logs


def workload_bytes(spans: int = 20_000) -> dict[str, float]:
    """Mean bytes CloudWatch Logs ingests per invocation for the span line(s) and the REPORT line."""
    span_bytes, report_bytes, span_counts = [], [], []
    for invocation in collector_data.invocations(spans, 7, 1_795_593_398_000_000_000, 600 * 10**9):
        lines = [message for _, message in collector_data.log_lines(invocation)]
        span_bytes.append(sum(len(m.encode()) + LOG_EVENT_OVERHEAD for m in lines if m.startswith("HOPTRACE")))
        report_bytes.append(sum(len(m.encode()) + LOG_EVENT_OVERHEAD for m in lines if m.startswith("REPORT")))
        span_counts.append(len(invocation.spans))
    return {"span_line_bytes": statistics.mean(span_bytes), "report_bytes": statistics.mean(report_bytes),
            "spans_per_invocation": statistics.mean(span_counts)}


def measure(endpoint: str, invocations_per_batch: int, spans: int) -> dict[str, float]:
    """CPU seconds and DynamoDB calls per batch of the real handler, at this many invocations per batch."""
    import hoptrace_collector.handler as collector

    events, _ = collector_data.subscription_batches(spans, seed=3,
                                                    events_per_batch=LINES_PER_INVOCATION * invocations_per_batch)
    os.environ["HOPTRACE_STORE"] = (f"dynamodb://cost-{uuid.uuid4().hex[:8]}?region=us-east-1"
                                    f"&endpoint_url={endpoint}&create=1")
    collector.reset()
    calls = 0

    def count(**_: Any) -> None:
        nonlocal calls
        calls += 1

    try:
        ingestor = collector.ingestor()
        ingestor.store.io.client.meta.events.register("before-call.dynamodb", count)
        collector.handler(events[0])  # warm: the first batch also opens the store
        calls, invocations = 0, 0
        cpu = time.process_time()
        for event in events[1:]:
            summary = collector.handler(event)
            invocations += summary["invocations_written"]
        cpu = time.process_time() - cpu
    finally:
        collector.reset()
    batches = len(events) - 1
    return {"batches": batches, "invocations_per_batch": invocations / batches, "cpu_s_per_batch": cpu / batches,
            "calls_per_batch": calls / batches}


def per_million(m: dict[str, float], volume: dict[str, float], arch: str = "arm64") -> dict[str, float]:
    """Dollars per million traced invocations, by line item."""
    batches = 1e6 / m["invocations_per_batch"]
    seconds = m["cpu_s_per_batch"] * FULL_VCPU_MB / (MEMORY_GB * 1024) + m["calls_per_batch"] * DYNAMODB_CALL_S
    spans = 1e6 * volume["spans_per_invocation"]
    return {
        "logs_span_lines": 1e6 * volume["span_line_bytes"] / 2**30 * LOGS_INGEST_PER_GB,
        "lambda_gb_s": batches * seconds * MEMORY_GB,
        "lambda_compute": batches * seconds * MEMORY_GB * GB_SECOND[arch],
        "lambda_requests": batches * LAMBDA_REQUEST,
        "dynamodb_writes": spans * WRITE_UNITS_PER_SPAN * WRITE_PRICE,
        "dynamodb_reads": spans * READ_UNITS_PER_SPAN * READ_PRICE,
        "storage_per_month": spans / 1e6 * STORAGE_GB_PER_MILLION_SPANS * STORAGE_PRICE,
        "seconds_per_batch": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS, MotoServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=6000, help="spans ingested per batch size")
    parser.add_argument("--batch", type=int, action="append", help="invocations per subscription batch (repeatable)")
    args = parser.parse_args(argv)
    os.environ.update(DUMMY_CREDENTIALS)
    volume = workload_bytes()
    print(f"per invocation: span line {volume['span_line_bytes']:.0f} B, REPORT {volume['report_bytes']:.0f} B, "
          f"{volume['spans_per_invocation']:.2f} spans")
    server = MotoServer()
    endpoint = server.start()
    try:
        for size in args.batch or [1, 10, 50]:
            m = measure(endpoint, size, args.spans)
            cost = per_million(m, volume)
            x86 = per_million(m, volume, "x86_64")["lambda_compute"]
            print(f"batch {m['invocations_per_batch']:.1f} invocations: {m['cpu_s_per_batch'] * 1e3:.2f} ms CPU, "
                  f"{m['calls_per_batch']:.1f} DynamoDB calls -> {cost['seconds_per_batch'] * 1e3:.0f} ms billed; "
                  + ", ".join(f"{k} {v:.2f}" for k, v in cost.items() if k != "seconds_per_batch")
                  + f", lambda_compute_x86 {x86:.2f}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
