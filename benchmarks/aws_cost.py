"""What hoptrace costs on AWS per million traced invocations, all in, from measured bytes, CPU time and DynamoDB units.

Run with `python -m benchmarks.aws_cost` (starts a moto server; a minute or two), or `hoptrace bench aws`.

Measured here: the real collector handler (`hoptrace_collector.handler.handler`, configured only by
`HOPTRACE_STORE`, as the stack runs it) ingests realistic subscription batches (benchmarks/collector_data.py:
traces of 5-15 spans over 2-4 functions, the real layer's wire encoding, 4 application log lines per
invocation) into a `dynamodb://` table on moto's server. Per batch size it records this process's CPU time
(decode, records, compression, boto3 request building; moto's own work runs in its own process), the
DynamoDB round trips waited for, and every write and read unit the items would be billed for
(benchmarks/collector_dynamo.py). Then the dashboard's and the alert evaluator's reads on the same table.

Modelled (every assumption is a constant below): Lambda's billed duration per batch is the CPU time scaled
to the CPU share a 512 MB function gets, plus one in-region round trip per wait. Prices: us-east-1, on
demand, 2026-11 (DynamoDB's on-demand prices were halved on 2024-11-01).
"""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

from benchmarks import collector_data, collector_dynamo

MEMORY_GB = 0.5  # the stack's collector: MemorySize 512
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
ROUND_TRIP_S = 0.010  # assumed in-region latency of one DynamoDB call (a BatchWriteItem of 25: ~10-20 ms)
GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
LAMBDA_REQUEST = 0.20 / 1_000_000
LOGS_INGEST_PER_GB = 0.50  # CloudWatch Logs standard ingestion, first tier (GB = 2^30 bytes)
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts per event on top of the message
COLLECTOR_OWN_LOG_BYTES = 3 * (120 + LOG_EVENT_OVERHEAD)  # the collector's own START/END/REPORT per batch
APP_LINES = 4  # application lines per invocation (~90 B each): stored with the invocation (issue 16)
#: Steady state: a collector sandbox notes each function's day once a day, and marks the table once.
STARTUP_KINDS = ("registry update", "layout/registry")
#: The dashboard's and alerts' reads per million invocations (one day at ~11.6 invocations/s, 20 functions):
TRACE_LIST_VIEWS = 200  # Traces page, newest 100 (read units measured per view)
TRACE_VIEWS = 200  # one trace with its log lines (measured per view)
WHOLE_DAY_OVERVIEWS = 20  # function stats over the whole day: every function page of the day
ALERT_RUNS = 1440  # the evaluator every minute: function stats and platform deaths over 5 minutes
ALERT_WINDOW_INVOCATIONS = 1_000_000 * 5 / 1440
FUNCTIONS = 20
QUERIES_PER_FUNCTION_DAY = 2 * 4  # f: and b: pages, 4 shards: each Query costs at least half a unit


def workload_bytes(spans: int = 20_000, compress: bool = False) -> dict[str, float]:
    """Mean bytes CloudWatch Logs ingests per invocation for the span line(s) and the REPORT line
    (`compress`: span lines as HOPTRACE_COMPRESS_LINES writes them)."""
    span_bytes, report_bytes, span_counts = [], [], []
    for invocation in collector_data.invocations(spans, 7, 1_795_593_398_000_000_000, 600 * 10**9):
        lines = [message for _, message in collector_data.log_lines(invocation, compress=compress)]
        span_bytes.append(sum(len(m.encode()) + LOG_EVENT_OVERHEAD for m in lines if m.startswith("HOPTRACE")))
        report_bytes.append(sum(len(m.encode()) + LOG_EVENT_OVERHEAD for m in lines if m.startswith("REPORT")))
        span_counts.append(len(invocation.spans))
    return {"span_line_bytes": statistics.mean(span_bytes), "report_bytes": statistics.mean(report_bytes),
            "spans_per_invocation": statistics.mean(span_counts)}


def measure(endpoint: str, invocations_per_batch: int, spans: int, compress: bool = False) -> dict[str, Any]:
    """The handler's CPU, round trips and DynamoDB units at this many invocations per batch."""
    events_per_batch = (4 + APP_LINES) * invocations_per_batch
    measured = collector_dynamo.ingest(endpoint, spans, events_per_batch, APP_LINES, seed=3, handler=True,
                                       compress=compress)
    reads = collector_dynamo.dashboard_reads(measured["store"], measured["meter"], measured["invocations"])
    measured["store"].close()
    result = collector_dynamo.summarise(measured, reads)
    startup = sum(result["write_units_per_invocation_by_kind"].get(k, 0) for k in STARTUP_KINDS)
    result["steady_write_units_per_invocation"] = result["write_units_per_invocation"] - startup
    return result


def per_million(m: dict[str, Any], volume: dict[str, float], arch: str = "arm64") -> dict[str, float]:
    """Dollars per million traced invocations, by line item."""
    batches = 1e6 / m["invocations_per_batch"]
    seconds = m["cpu_s_per_batch"] * FULL_VCPU_MB / (MEMORY_GB * 1024) + m["waits_per_batch"] * ROUND_TRIP_S
    reads = m["dashboard_read_units"]

    def pages(invocations: float) -> float:
        """Read units of every function page holding `invocations` (eventually consistent, 4 KB a unit)."""
        return (invocations * m["function_page_bytes_per_invocation"] / 4096 * 0.5
                + FUNCTIONS * QUERIES_PER_FUNCTION_DAY * 0.5)

    dashboard_units = (TRACE_LIST_VIEWS * reads["traces page (newest 100)"]
                       + TRACE_VIEWS * reads["one trace with its log lines"]
                       + WHOLE_DAY_OVERVIEWS * pages(1e6)
                       + ALERT_RUNS * 2 * pages(ALERT_WINDOW_INVOCATIONS))
    cost = {
        "logs_span_lines": 1e6 * volume["span_line_bytes"] / 2**30 * LOGS_INGEST_PER_GB,
        "logs_collector_own": batches * COLLECTOR_OWN_LOG_BYTES / 2**30 * LOGS_INGEST_PER_GB,
        "lambda_compute": batches * seconds * MEMORY_GB * GB_SECOND[arch],
        "lambda_requests": batches * LAMBDA_REQUEST,
        "dynamodb_writes": 1e6 * m["steady_write_units_per_invocation"] * collector_dynamo.WRITE_PRICE,
        "dynamodb_reads_collector": 1e6 * m["read_units_per_invocation"] * collector_dynamo.READ_PRICE,
        "dynamodb_reads_dashboard_alerts": dashboard_units * collector_dynamo.READ_PRICE,
    }
    cost["total"] = sum(cost.values())
    cost["storage_per_month"] = m["storage_cost_per_million_month"]
    cost["seconds_per_batch"] = seconds
    return cost


#: The cases measured: (invocations per batch, span lines compressed), in the table's column order.
CASES = ((1, False), (17, False), (1, True), (17, True))
COLUMNS = {(1, False): "quiet (1 per batch)", (17, False): "busy (~17 per batch)",
           (1, True): "quiet, compressed lines", (17, True): "busy, compressed lines"}


def run(rounds: int = 1, warm: int = 0, log: Any = print, quick: bool = False) -> dict[str, Any]:
    """`hoptrace bench aws`: the per-million cost at 1 (a quiet function) and ~17 (busy) invocations per batch,
    with the span lines as the layer writes them by default and compressed (HOPTRACE_COMPRESS_LINES)."""
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS, MotoServer

    os.environ.update({k: os.environ.get(k, v) for k, v in DUMMY_CREDENTIALS.items()})
    volumes = {compress: workload_bytes(2_000 if quick else 20_000, compress) for compress in (False, True)}
    spans = {1: 60, 17: 300} if quick else {1: 250, 17: 3_000}
    server = MotoServer()
    endpoint = server.start()
    out: dict[str, Any] = {"volume": volumes[False], "volumes": volumes, "cases": {}, "load_start": os.getloadavg()[0]}
    try:
        for size, compress in CASES:
            log(f"  collector handler into DynamoDB on moto, {size} invocation(s) per batch"
                f"{', compressed span lines' if compress else ''} ...")
            m = measure(endpoint, size, spans[size], compress)
            volume = volumes[compress]
            out["cases"][size, compress] = {"measured": m, "arm64": per_million(m, volume),
                                            "x86_64": per_million(m, volume, "x86_64")}
    finally:
        server.stop()
    out["sizes"] = {size: out["cases"][size, False] for size in (1, 17)}  # the default lines, as before
    out["load"] = os.getloadavg()[0]
    return out


TITLE = "AWS cost per million invocations (DynamoDB store, all in)"

_ROWS = [
    ("CloudWatch Logs ingestion of the span lines", "logs_span_lines"),
    ("CloudWatch Logs of the collector's own invocations", "logs_collector_own"),
    ("collector Lambda, arm64 512 MB", "lambda_compute"),
    ("collector requests ($0.20 per million, one per batch)", "lambda_requests"),
    ("DynamoDB writes ($0.625 per million write units)", "dynamodb_writes"),
    ("DynamoDB reads by the collector's merges", "dynamodb_reads_collector"),
    ("DynamoDB reads by the dashboard and alerts (assumed use)", "dynamodb_reads_dashboard_alerts"),
]


def markdown(result: dict[str, Any]) -> str:
    volumes, cases = result["volumes"], result["cases"]
    lines = [f"Per invocation: {volumes[False]['spans_per_invocation']:.2f} spans, span line "
             f"{volumes[False]['span_line_bytes']:,.0f} B ({volumes[True]['span_line_bytes']:,.0f} B compressed; "
             f"with CloudWatch's 26 B per event), {APP_LINES} application lines. "
             f"1-minute load average {result['load_start']:.1f} at the start, {result['load']:.1f} at the end.", "",
             "| batch | CPU per batch | round trips | write units / invocation (by kind) | mean item bytes |",
             "|---|---|---|---|---|"]
    for (_, compress), entry in cases.items():
        m = entry["measured"]
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in m["write_units_per_invocation_by_kind"].items())
        items = ", ".join(f"{k} {v}" for k, v in m["item_bytes"].items())
        lines.append(f"| {m['invocations_per_batch']:.1f} invocations{', compressed' if compress else ''} | "
                     f"{m['cpu_s_per_batch'] * 1e3:.1f} ms | {m['waits_per_batch']:.1f} | "
                     f"{m['steady_write_units_per_invocation']:.2f} steady ({kinds}) | {items} |")
    keys = list(cases)
    lines += ["", "| per million invocations | " + " | ".join(COLUMNS[k] for k in keys) + " |",
              "|---|" + "---|" * len(keys)]
    for label, key in _ROWS:
        lines.append(f"| {label} | " + " | ".join(f"${cases[k]['arm64'][key]:.3f}" for k in keys) + " |")
    lines.append("| **total** | " + " | ".join(f"**${cases[k]['arm64']['total']:.2f}**" for k in keys) + " |")
    lines.append("| storage while kept (per month) | "
                 + " | ".join(f"${cases[k]['arm64']['storage_per_month']:.2f}" for k in keys) + " |")
    default, compressed = cases[17, False]["arm64"]["total"], cases[17, True]["arm64"]["total"]
    lines += ["", f"Aim ≤ $2.00 per million invocations all in (busy): {'met' if default <= 2.0 else 'NOT met'} "
              f"with the default lines (${default:.2f}), {'met' if compressed <= 2.0 else 'NOT met'} with "
              f"HOPTRACE_COMPRESS_LINES (${compressed:.2f}); AWS X-Ray: $5.00 per million traces recorded."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (proves the machinery)")
    args = parser.parse_args(argv)
    print(markdown(run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
