"""Cold start, warm overhead, bytes per invocation and "nothing lost": bare, hoptrace (default and SDK engine),
stock OpenTelemetry, the X-Ray SDK and Powertools Tracer, in one interleaved run.

Every peer's handler runs in the local cloud's worker processes (benchmarks/startup_cloud.py), with
the same runtime interpreter and boto3, the tracer attached as a layer (benchmarks/peers.py):

1. Cold start: a fresh worker per peer per round, rounds interleaved (A/B/C/D, B/C/D/A, ...) so
   machine drift cancels; the figure is what the local cloud reports, Init Duration + the first
   invocation's Duration, for a handler that imports boto3 and sends one SQS message.
2. Warm overhead: a handler that makes no AWS call, one with three AWS SDK calls (answered by
   botocore's Stubber) and one with three manual spans (each peer's own API), one invocation per peer
   in turn; timed inside the worker around the peer's handler (and, for reference, the platform's
   Duration, which adds the local cloud's pipe round trip).
3. Bytes written to the log per invocation and their CloudWatch Logs ingestion cost.
6. Nothing lost: hoptrace's logs go through the log router and the collector into a store, and
   every invocation must be there.

"Added" figures are medians of paired differences (peer minus bare in the same round), which is
what interleaving buys. Run with `hoptrace bench startup` (or `python -m benchmarks.startup`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import peers as peer_setup
from benchmarks import startup_cpu
from benchmarks.startup_cloud import COLD, WARM_CASES, BenchCloud, logical_id
from benchmarks.stats import ratio, summary

TITLE = "1-3, 6. Cold start, warm overhead, bytes per invocation, nothing lost (peers in the local cloud's workers)"
PEERS = peer_setup.PEERS
TRACERS = PEERS[1:]
CASE_TITLES = {"noop": "no-op: no AWS call (1 span)",
               "three_calls": "three AWS SDK calls (SendMessage answered by botocore's Stubber, no network: 4 spans)",
               "three_spans": "three manual spans (each peer's own API: OpenTelemetry, X-Ray, Powertools; 4 spans)"}
# CloudWatch Logs ingestion, standard log class, us-east-1 (first tier of Lambda's vended-log pricing).
CLOUDWATCH_USD_PER_GB = 0.50
GB = 1024**3
# Ratios to less than this are left out: the in-worker timer alone reads about 1 µs.
NOISE_MS = 0.005


def run(rounds: int = 40, warm: int = 400, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    """`rounds` interleaved cold starts per peer; `warm` interleaved warm invocations per peer and handler."""
    if quick:
        rounds, warm = min(rounds, 2), min(warm, 15)
    workdir = Path(tempfile.mkdtemp(prefix="hoptrace-bench-"))
    try:
        runtime, peers = peer_setup.prepare(log)
        log("  cold starts in CPU time, fresh processes ...")
        cpu = startup_cpu.run(runtime, peers, peer_setup.APPS, rounds, log)
        log("  starting the local cloud (one function per peer and handler) ...")
        bench = BenchCloud(workdir, peers)
        try:
            cold = _cold_starts(bench, rounds, log)
            warm_runs = _warm_runs(bench, warm, log)
            log("  routing hoptrace's logs through the collector into a SQLite store ...")
            lost = bench.stored()
            written = {case: {peer: _written(bench, peer, case, warm_runs[case][peer]["ids"]) for peer in PEERS}
                       for case in WARM_CASES}
        finally:
            bench.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "rounds": rounds, "warm": warm, "cold_cpu": cpu,
        "cold": _summarise({peer: [init + first for init, first in cold[peer]] for peer in PEERS}),
        "cold_parts": {peer: {"init": summary([init for init, _ in cold[peer]]),
                              "first": summary([first for _, first in cold[peer]])} for peer in PEERS},
        "warm_runs": {case: {kind: _summarise({peer: runs[peer][f"{kind}_ms"] for peer in PEERS})
                             for kind in ("handler", "cpu", "platform")} for case, runs in warm_runs.items()},
        "written": written, "nothing_lost": lost,
        "versions": {"runtime": peer_setup.runtime_versions(), **{p.name: p.versions for p in peers.values()}},
    }


def _order(number: int) -> tuple[str, ...]:
    """Round `number`'s order: A/B/C/D, B/C/D/A, ... so every peer runs in every position equally often."""
    shift = number % len(PEERS)
    return PEERS[shift:] + PEERS[:shift]


def _cold_starts(bench: BenchCloud, rounds: int, log: Callable[[str], None]) -> dict[str, list[tuple[float, float]]]:
    samples: dict[str, list[tuple[float, float]]] = {peer: [] for peer in PEERS}
    log("  one unmeasured cold start per peer (file cache, the handler's .pyc) ...")
    for peer in PEERS:
        bench.cold_start(peer, COLD)
    for number in range(rounds):
        bench.stop_workers(COLD)  # last round's workers go first, so no kill overlaps a measurement
        for peer in _order(number):
            bench.purge_queue()
            samples[peer].append(bench.cold_start(peer, COLD))
        log(f"  cold round {number + 1}/{rounds}: "
            + ", ".join(f"{peer} {sum(samples[peer][-1]):.0f} ms" for peer in PEERS))
    bench.stop_workers(COLD)
    return samples


def _warm_runs(bench: BenchCloud, warm: int, log: Callable[[str], None]) -> dict[str, dict[str, dict[str, list]]]:
    runs: dict[str, dict[str, dict[str, list]]] = {}
    for case in WARM_CASES:
        for peer in PEERS:
            bench.invoke(peer, case)  # the worker's cold start, not measured here
        invocations: dict[str, list] = {peer: [] for peer in PEERS}
        for number in range(warm):
            for peer in _order(number):
                invocations[peer].append(bench.invoke(peer, case))
        runs[case] = {}
        for peer in PEERS:
            timed = bench.timings_ms(peer, case)
            runs[case][peer] = {"ids": [i.request_id for i in invocations[peer]],
                                "handler_ms": [timed[i.request_id][0] for i in invocations[peer]],
                                "cpu_ms": [timed[i.request_id][1] for i in invocations[peer]],
                                "platform_ms": [i.duration_ms for i in invocations[peer]]}
        bench.stop_workers(case)
        log(f"  warm, {case}: {warm} invocations per peer: " + ", ".join(
            f"{peer} {statistics.median(runs[case][peer]['handler_ms']):.3f} ms" for peer in PEERS))
    return runs


def _summarise(samples: dict[str, list[float]]) -> dict[str, Any]:
    """Per peer: median and p95, and the median of paired differences to bare (the same round)."""
    out: dict[str, Any] = {}
    for peer, values in samples.items():
        paired = [value - base for value, base in zip(values, samples["bare"], strict=True)]
        out[peer] = {**summary(values), "added": statistics.median(paired)}
    return out


def _written(bench: BenchCloud, peer: str, case: str, ids: list[str]) -> dict[str, float]:
    """Log bytes per warm invocation, and what went elsewhere (OTLP, X-Ray UDP) per invocation."""
    sizes = bench.log_bytes(peer, case)
    out = {"log_bytes": statistics.median(sizes[i] for i in ids)}
    exported = bench.exported(peer, case)
    if exported is not None:
        count = len(bench.issued[logical_id(peer, case)])
        out.update({f"export_{key}": value / count for key, value in exported.items()})
    return out


def _usd_per_million(log_bytes: float) -> float:
    return log_bytes * 1e6 / GB * CLOUDWATCH_USD_PER_GB


def markdown(result: dict[str, Any]) -> str:
    cold, parts = result["cold"], result["cold_parts"]
    lines = [f"#### 1. Cold start: process start → first response ({result['rounds']} interleaved rounds)", "",
             "Handler: imports boto3, sends one SQS message. What the local cloud reports: Init Duration (worker "
             "process start → handler imported) + Duration of the first invocation.", "",
             *_table(cold, "ms", 0, extra=("Init Duration", "first Duration"),
                     extra_values=lambda peer: (f"{parts[peer]['init']['median']:.0f} ms",
                                                f"{parts[peer]['first']['median']:.1f} ms"))]
    lines += ["", *startup_cpu.markdown(result["cold_cpu"], result["rounds"])]
    lines += ["", f"#### 2. Warm invocation overhead ({result['warm']} interleaved invocations per peer)", "",
              "Time inside the worker around the peer's handler (the stock OpenTelemetry flush to the local "
              "OTLP receiver included); in brackets the local cloud's Duration, which adds its pipe round trip."]
    for case in WARM_CASES:
        runs = result["warm_runs"][case]
        lines += ["", f"**{CASE_TITLES[case]}**: wall clock", "",
                  *_table(runs["handler"], "ms", 3, extra=("local cloud Duration",),
                          extra_values=lambda peer, r=runs: (f"{r['platform'][peer]['median']:.2f} ms",))]
        if "cpu" in runs:
            lines += ["", f"**{CASE_TITLES[case]}**: CPU time of the function's process over the same call", "",
                      *_table(runs["cpu"], "ms", 3)]
    lines += ["", *_bytes_table(result["written"])]
    lost = result["nothing_lost"]
    verdict = "nothing lost" if lost["invocations"] == lost["stored"] == lost["platform_reports"] else "SPANS LOST"
    lines += ["", "#### 6. Nothing lost", "",
              f"hoptrace's log lines of every invocation in this run (cold and warm), routed by the local cloud's "
              f"log router as CloudWatch Logs subscription payloads into the collector's ingest and a SQLite "
              f"store: invocations: {lost['invocations']}, stored: {lost['stored']} (invocation spans), "
              f"platform REPORT records: {lost['platform_reports']} — **{verdict}**.",
              "", *targets(result), "", "#### Versions measured", "", "| peer | versions |", "|---|---|"]
    for name, versions in result["versions"].items():
        text = ", ".join(f"{k} {v}" for k, v in versions.items()) or "(nothing beyond the runtime)"
        lines.append(f"| {name} | {text} |")
    return "\n".join(lines)


def _table(rows: dict[str, Any], unit: str, digits: int, extra: tuple[str, ...] = (),
           extra_values: Callable[[str], tuple[str, ...]] | None = None) -> list[str]:
    head = ["peer", "median", "p95", "÷ bare", "added (paired median)", *(f"added ÷ {p}'s" for p in TRACERS), *extra]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for peer in PEERS:
        row = rows[peer]
        cells = [peer, f"{row['median']:.{digits}f} {unit}", f"{row['p95']:.{digits}f} {unit}",
                 ratio(row["median"], rows["bare"]["median"], NOISE_MS),
                 "-" if peer == "bare" else f"{row['added']:+.{digits}f} {unit}"]
        cells += ["-" if peer == "bare" else ratio(row["added"], rows[other]["added"], NOISE_MS) for other in TRACERS]
        cells += list(extra_values(peer)) if extra_values else []
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _bytes_table(written: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    lines = ["#### 3. Bytes written per invocation and CloudWatch Logs cost", "",
             f"Log event bytes per warm invocation (UTF-8 message text; the platform's START/END/REPORT lines "
             f"included, which every function pays). Cost: CloudWatch Logs ingestion at "
             f"${CLOUDWATCH_USD_PER_GB:.2f} per GB (2^30 bytes), standard log class, us-east-1 (the first tier "
             f"of Lambda's log pricing). Stock OpenTelemetry and the X-Ray SDK send their spans elsewhere "
             f"(OTLP/HTTP to a collector, UDP to the X-Ray daemon): those bytes are shown, not priced.", "",
             "| handler | peer | log bytes | added log bytes | CloudWatch $ per 1M invocations | added $ per 1M "
             "| sent elsewhere per invocation |", "|---|---|---|---|---|---|---|"]
    for case in WARM_CASES:
        base = written[case]["bare"]["log_bytes"]
        for peer in PEERS:
            row = written[case][peer]
            elsewhere = (f"{row['export_bytes']:.0f} B in {row['export_requests']:.1f} "
                         f"{'OTLP requests' if peer == 'stock-otel' else 'datagrams'}, "
                         f"{row['export_spans']:.1f} spans" if "export_bytes" in row else "-")
            lines.append(f"| {case} | {peer} | {row['log_bytes']:.0f} | {row['log_bytes'] - base:+.0f} "
                         f"| ${_usd_per_million(row['log_bytes']):.3f} "
                         f"| ${_usd_per_million(row['log_bytes'] - base):+.3f} | {elsewhere} |")
    return lines


def targets(result: dict[str, Any]) -> list[str]:
    """The issue's aims, each with the figure that decides it (hoptrace = the default engine)."""
    cold, lost = result["cold"], result["nothing_lost"]
    warm = {case: runs["handler"] for case, runs in result["warm_runs"].items()}

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    def share(ours: float, theirs: float) -> str:
        return f"{ours / theirs:.2f}x" if theirs > 0 else "n/a"

    ours, otel, xray = (cold[p]["added"] for p in ("hoptrace", "stock-otel", "xray-sdk"))
    lines = ["#### Against the aims", "",
             f"- Cold start added: hoptrace {ours:+.1f} ms vs stock OpenTelemetry {otel:+.1f} ms = "
             f"{share(ours, otel)} (aim ≤ 0.25x): {verdict(ours <= 0.25 * otel)}; vs X-Ray SDK {xray:+.1f} ms "
             f"(aim: below): {verdict(ours < xray)}; goal ≤ 10 ms: {verdict(ours <= 10)}."]
    three = warm["three_calls"]
    ours, otel, xray = (three[p]["added"] for p in ("hoptrace", "stock-otel", "xray-sdk"))
    lines.append(f"- Warm, three AWS SDK calls: hoptrace {ours * 1000:+.0f} µs vs stock OpenTelemetry "
                 f"{otel * 1000:+.0f} µs = {share(ours, otel)} (aim ≤ 0.10x): {verdict(ours <= 0.10 * otel)}; "
                 f"vs X-Ray SDK {xray * 1000:+.0f} µs (aim: below): {verdict(ours < xray)}; goal < 100 µs: "
                 f"{verdict(ours < 0.1)}.")
    noop = warm["noop"]["hoptrace"]["added"]
    lines.append(f"- Warm no-op: hoptrace {noop * 1000:+.0f} µs (aim ≤ 30 µs): {verdict(noop <= 0.030)}.")
    cpu = {case: runs["cpu"] for case, runs in result["warm_runs"].items() if "cpu" in runs}
    if cpu:
        ours, otel, xray = (cpu["three_calls"][p]["added"] for p in ("hoptrace", "stock-otel", "xray-sdk"))
        lines.append(f"- The same in CPU time: three AWS SDK calls hoptrace {ours * 1000:+.0f} µs vs stock "
                     f"OpenTelemetry {otel * 1000:+.0f} µs = {share(ours, otel)} (aim ≤ 0.10x): "
                     f"{verdict(ours <= 0.10 * otel)}; vs X-Ray SDK {xray * 1000:+.0f} µs: {verdict(ours < xray)}; "
                     f"no-op hoptrace {cpu['noop']['hoptrace']['added'] * 1000:+.0f} µs: "
                     f"{verdict(cpu['noop']['hoptrace']['added'] <= 0.030)}.")
    manual = warm["three_spans"]
    lines.append("- Warm, three manual spans (for reference): " + ", ".join(
        f"{p} {manual[p]['added'] * 1000:+.0f} µs" for p in TRACERS) + ".")
    lines.append(f"- Nothing lost: {lost['stored']} of {lost['invocations']} invocations of the hoptrace peers "
                 f"stored: {verdict(lost['stored'] == lost['invocations'])}.")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warm", type=int, default=400)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(markdown(run(args.rounds, args.warm, quick=args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
