"""Cold start in CPU time: what each peer's init and first invocation cost the processor, in fresh processes.

The local cloud's cold starts (benchmarks/startup.py) are wall-clock figures, as Lambda reports
them; on a shared machine they swing with everyone else's load. CPU time (user + system, from
`getrusage` at the end of the first invocation) counts only this process's work, so it stays
comparable when the machine is busy. Each round starts one fresh process per peer, in rotated order,
with the runtime's interpreter and the peer's layer on the path as Lambda lays them out (task root,
then /opt/python): import the handler as the peer attaches it, then one no-op invocation. "Added" is
the median of paired differences to the bare process of the same round.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.peers import APPS, PEERS, XRAY_PEERS, Peer
from benchmarks.sinks import OtlpReceiver

# A stand-in for the runtime's bootstrap: import the handler the way the peer is attached, invoke it once.
_CHILD = r"""
import json, os, resource, sys, types
module_name, function = sys.argv[1].rsplit(".", 1)
handler = getattr(__import__(module_name, fromlist=[function]), function)
context = types.SimpleNamespace(aws_request_id="cpu-1", function_name="bench", function_version="$LATEST",
                                invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
                                memory_limit_in_mb=1024, log_group_name="/aws/lambda/bench", log_stream_name="s",
                                client_context=None, identity=None, get_remaining_time_in_millis=lambda: 30000)
devnull = open(os.devnull, "w")
stdout, sys.stdout = sys.stdout, devnull
handler(json.loads(sys.argv[2]), context)
sys.stdout = stdout
usage = resource.getrusage(resource.RUSAGE_SELF)
print("CPU", usage.ru_utime + usage.ru_stime)
"""
EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Scheduled Event",
         "source": "aws.events", "account": "123456789012", "time": "2026-11-25T08:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"], "detail": {}}


def _entry(peer: Peer) -> tuple[str, dict[str, str]]:
    """The module.function the runtime imports for this peer, and the environment its attachment sets."""
    env = dict(peer.env)
    if peer.redirect:
        return "hoptrace.handler.handler", {**env, "HOPTRACE_HANDLER": peer.user_handler("noop")}
    if peer.name == "stock-otel":
        return "otel_wrapper.lambda_handler", {**env, "ORIG_HANDLER": peer.user_handler("noop"),
                                               "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none",
                                               "OTEL_PROPAGATORS": "tracecontext,baggage,xray",
                                               "OTEL_SERVICE_NAME": "bench"}
    return peer.user_handler("noop"), env


def run(runtime: Path, peers: dict[str, Peer], code: Path, rounds: int,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    receiver = OtlpReceiver()
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HOPTRACE_", "OTEL_", "PYTHON", "AWS_"))}
        base.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                     "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "LAMBDA_TASK_ROOT": str(code),
                     "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench",
                     "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                     "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9"})
        samples: dict[str, list[float]] = {name: [] for name in PEERS}
        commands = {}
        for name in PEERS:
            peer = peers[name]
            entry, env = _entry(peer)
            path = [str(code)] + ([str(peer.layer / "python")] if peer.layer is not None else [])
            env = {**base, **env, "PYTHONPATH": os.pathsep.join(path)}
            if name == "stock-otel":
                env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = receiver.endpoint("cpu")
            if name not in XRAY_PEERS:
                env.pop("AWS_XRAY_DAEMON_ADDRESS", None)
            commands[name] = ([str(runtime), "-c", _CHILD, entry, json.dumps(EVENT)], env)
        for name in PEERS:  # one unmeasured start each: file cache and bytecode warm
            _cpu(*commands[name])
        for number in range(rounds):
            shift = number % len(PEERS)
            for name in PEERS[shift:] + PEERS[:shift]:
                samples[name].append(_cpu(*commands[name]) * 1000)
            if (number + 1) % 5 == 0 or number + 1 == rounds:
                log(f"  cold-start CPU round {number + 1}/{rounds}: "
                    + ", ".join(f"{name} {samples[name][-1]:.0f} ms" for name in PEERS))
    finally:
        receiver.stop()
    out: dict[str, Any] = {}
    for name, values in samples.items():
        paired = [value - bare for value, bare in zip(values, samples["bare"], strict=True)]
        out[name] = {"median": statistics.median(values), "added": statistics.median(paired)}
    return out


def _cpu(command: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=APPS)
    line = next((x for x in done.stdout.splitlines() if x.startswith("CPU ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"cold-start CPU probe failed ({command[3]}): {done.stderr[-1500:]}")
    return float(line.split()[1])


def markdown(result: dict[str, Any], rounds: int) -> list[str]:
    lines = [f"#### 1b. Cold start in CPU time ({rounds} interleaved rounds of fresh processes)", "",
             "Init (the handler imported as the peer attaches it) + one no-op invocation, user + system CPU time of "
             "the process: steady when the machine is busy, where wall-clock figures are not.", "",
             "| peer | median | added (paired median) | added ÷ stock-otel's | added ÷ xray-sdk's |",
             "|---|---|---|---|---|"]
    for name, row in result.items():
        if name == "bare":
            lines.append(f"| {name} | {row['median']:.1f} ms | - | - | - |")
            continue
        ratios = [f"{row['added'] / result[p]['added']:.2f}x" if result[p]["added"] > 0 else "n/a"
                  for p in ("stock-otel", "xray-sdk")]
        lines.append(f"| {name} | {row['median']:.1f} ms | {row['added']:+.1f} ms | {ratios[0]} | {ratios[1]} |")
    return lines
