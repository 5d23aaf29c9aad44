"""Cold start and warm overhead: bare handler vs hoptrace vs stock OpenTelemetry vs X-Ray SDK.

Every peer runs the same handler (boto3 + one SQS send to a local moto server) in a fresh
process; rounds interleave the peers (A/B/C/D, A/B/C/D, ...) so machine drift cancels.
Run with `hoptrace bench startup` (or `python -m benchmarks.startup`).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks import venvs

HERE = Path(__file__).resolve().parent
PEERS = ("bare", "hoptrace", "stock-otel", "xray-sdk")


class _OtlpReceiver(BaseHTTPRequestHandler):
    """Stands in for an OTLP collector so stock OpenTelemetry's per-invocation flush is real."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _udp_daemon() -> tuple[socket.socket, int]:
    """Stands in for the X-Ray daemon: receives and discards segment datagrams."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def drain() -> None:
        while True:
            try:
                sock.recv(65536)
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    return sock, sock.getsockname()[1]


def _layer_dir(root: Path) -> Path:
    """The layer as it ships: hoptrace alone under python/, compiled to .pyc."""
    target = root / "python"
    shutil.copytree(venvs.ROOT / "layer" / "hoptrace", target / "hoptrace",
                    ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(str(target), quiet=1)
    return target


def _spawn(python: Path, peer: str, function: str, warm: int, env: dict[str, str]) -> tuple[float, list[int], int]:
    cold_ms = None
    warm_ns: list[int] = []
    with tempfile.TemporaryFile() as stdout:  # a file, not a pipe: span lines must never block the child
        started = time.perf_counter_ns()
        process = subprocess.Popen([str(python), str(HERE / "startup_apps" / "runtime.py"), peer, function,
                                    str(warm)], stdout=stdout, stderr=subprocess.PIPE, env=env, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("COLD ") and cold_ms is None:
                cold_ms = (time.perf_counter_ns() - started) / 1e6
            elif line.startswith("WARM "):
                warm_ns.append(int(line.split()[1]))
        if process.wait() != 0 or cold_ms is None:
            raise RuntimeError(f"{peer} failed with exit code {process.returncode}")
        out_bytes = stdout.tell()
    return cold_ms, warm_ns, out_bytes


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]


def run(rounds: int = 15, warm: int = 200, log: callable = print) -> dict:
    from moto.server import ThreadedMotoServer

    pythons = {peer: venvs.python_for(peer, log) for peer in PEERS}
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{moto._server.server_port}"
    otlp = ThreadingHTTPServer(("127.0.0.1", 0), _OtlpReceiver)
    threading.Thread(target=otlp.serve_forever, daemon=True).start()
    udp, udp_port = _udp_daemon()
    workdir = Path(tempfile.mkdtemp(prefix="hoptrace-bench-"))
    try:
        layer = _layer_dir(workdir)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HOPTRACE_", "OTEL_", "PYTHON"))}
        base_env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                         "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                         "AWS_LAMBDA_FUNCTION_NAME": "bench", "OTEL_SERVICE_NAME": "bench",
                         "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp.server_port}",
                         "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{udp_port}", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
                         "BENCH_EVENT": json.dumps({"version": "0", "id": "x", "detail-type": "Scheduled Event",
                                                    "source": "aws.events", "detail": {}, "resources": []})})
        import boto3

        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="b",
                           aws_secret_access_key="b")
        base_env["QUEUE_URL"] = queue_url = sqs.create_queue(QueueName="bench")["QueueUrl"]

        def spawn(peer: str, function: str, warm_count: int) -> tuple[float, list[int], int]:
            # moto's SQS slows as a queue grows: empty it so every peer sends into the same state
            sqs.purge_queue(QueueUrl=queue_url)
            return _spawn(pythons[peer], peer, function, warm_count, envs[peer])

        envs = {}
        for peer in PEERS:
            path = [str(HERE / "startup_apps")] + ([str(layer)] if peer == "hoptrace" else [])
            envs[peer] = {**base_env, "PYTHONPATH": os.pathsep.join(path)}
        for peer in PEERS:  # warm the file cache and write .pyc files; not measured
            spawn(peer, "handler", 1)
        cold: dict[str, list[float]] = {p: [] for p in PEERS}
        warm_sqs: dict[str, list[int]] = {p: [] for p in PEERS}
        warm_noop: dict[str, list[int]] = {p: [] for p in PEERS}
        line_bytes: list[float] = []
        log(f"  {rounds} interleaved rounds x {len(PEERS)} peers ...")
        for round_number in range(rounds):
            for peer in PEERS:
                cold_ms, warm_ns, out_bytes = spawn(peer, "handler", warm if round_number < 3 else 0)
                cold[peer].append(cold_ms)
                warm_sqs[peer].extend(warm_ns)
                if peer == "hoptrace" and round_number < 3:
                    line_bytes.append(out_bytes / (warm + 1))
            for peer in PEERS if round_number < 3 else ():
                warm_noop[peer].extend(spawn(peer, "noop", warm)[1])
        return _summarise(cold, warm_sqs, warm_noop, line_bytes, {p: venvs.versions(p) for p in PEERS})
    finally:
        moto.stop()
        otlp.shutdown()
        udp.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _summarise(cold: dict, warm_sqs: dict, warm_noop: dict, line_bytes: list[float], versions: dict) -> dict:
    bare_cold = statistics.median(cold["bare"])
    rows = []
    for peer in PEERS:
        rows.append({
            "peer": peer,
            "cold_median_ms": statistics.median(cold[peer]),
            "cold_p95_ms": _p95(cold[peer]),
            "cold_added_ms": statistics.median(cold[peer]) - bare_cold,
            "warm_sqs_median_ms": statistics.median(warm_sqs[peer]) / 1e6,
            "warm_noop_median_ms": statistics.median(warm_noop[peer]) / 1e6,
            "warm_noop_p95_ms": _p95(warm_noop[peer]) / 1e6,
        })
    by_peer = {r["peer"]: r for r in rows}
    for row in rows:
        row["warm_noop_added_ms"] = row["warm_noop_median_ms"] - by_peer["bare"]["warm_noop_median_ms"]
        row["warm_sqs_added_ms"] = row["warm_sqs_median_ms"] - by_peer["bare"]["warm_sqs_median_ms"]
    return {"rows": rows, "hoptrace_bytes_per_invocation": statistics.median(line_bytes) if line_bytes else None,
            "versions": versions, "runs": {p: len(cold[p]) for p in PEERS}}


def markdown(result: dict) -> str:
    rows = {r["peer"]: r for r in result["rows"]}
    stock_cold, stock_warm = rows["stock-otel"]["cold_added_ms"], rows["stock-otel"]["warm_sqs_added_ms"]
    lines = ["| peer | cold start median (p95) | added to cold start | vs stock OTel | warm SQS call | added warm "
             "| warm no-op (added) |", "|---|---|---|---|---|---|---|"]
    for peer in PEERS:
        r = rows[peer]
        ratio = f"{r['cold_added_ms'] / stock_cold:.2f}x" if peer != "bare" and stock_cold > 0 else "-"
        lines.append(
            f"| {peer} | {r['cold_median_ms']:.0f} ms ({r['cold_p95_ms']:.0f}) "
            f"| {r['cold_added_ms']:+.0f} ms | {ratio} "
            f"| {r['warm_sqs_median_ms']:.2f} ms | {r['warm_sqs_added_ms']:+.3f} ms "
            f"| {r['warm_noop_median_ms']:.3f} ms ({r['warm_noop_added_ms']:+.3f}) |")
    if stock_warm > 0:
        lines.append("")
        share = rows["hoptrace"]["warm_sqs_added_ms"] / stock_warm
        lines.append(f"hoptrace warm overhead on the SQS handler: {share:.2f}x "
                     f"stock OpenTelemetry's. Span line bytes per invocation: "
                     f"{result['hoptrace_bytes_per_invocation']:.0f}.")
    lines.append("")
    lines.append("Versions: " + "; ".join(f"{p}: " + ", ".join(f"{k} {v}" for k, v in sorted(vs.items()))
                                          for p, vs in result["versions"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warm", type=int, default=200)
    args = parser.parse_args(argv)
    print(markdown(run(args.rounds, args.warm)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
