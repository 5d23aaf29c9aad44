"""What the local cloud's Step Functions runner costs, side by side with its physical floor.

- A one-task state machine run to its end (StartExecution → the Lambda task in a warm worker → history) against
  invoking the same warm function directly: the difference is what the interpreter and its history add.
- Interpreter throughput on a chain of Pass states (in-process, no workers): state transitions per second.
- The collector rebuilding spans from an execution history of 100 states (history → SpanRecords).

Rounds are interleaved (direct, machine, direct, machine …) so a busy machine hurts both the same. Run with
`hoptrace bench stepfunctions` (or `python -m benchmarks.stepfunctions_bench`).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Step Functions in the local cloud"
APP = ROOT / "tests" / "localcloud" / "apps" / "statemachines" / "template.yaml"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _task_overhead(rounds: int, log: Callable[[str], None]) -> dict[str, list[float]]:
    from hoptrace_localcloud.cloud import LocalCloud

    direct, machine = [], []
    with LocalCloud(APP, sqs_wait_seconds=1) as cloud:
        work = cloud.resource("Work").attributes["Arn"]
        definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": work, "End": True}}}
        arn = cloud.client("stepfunctions").create_state_machine(
            name="bench-one-task", definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
        event = {"mode": "double", "n": 21}
        for _ in range(3):  # warm the worker and the code paths
            cloud.invoke("Work", event)
            cloud.stepfunctions.start(arn, input_text=json.dumps(event)).done.wait(30)
        for n in range(rounds):
            started = time.perf_counter()
            cloud.invoke("Work", event)
            direct.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            execution = cloud.stepfunctions.start(arn, input_text=json.dumps(event))
            execution.done.wait(30)
            machine.append((time.perf_counter() - started) * 1000)
            assert execution.status == "SUCCEEDED", execution.error
            if n % 50 == 0:
                log(f"  round {n + 1}/{rounds}")
    return {"direct": direct, "machine": machine}


def _interpreter(states: int, rounds: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from tests.localcloud.stepfunctions.runner import run

    chain = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(states - 1)}
    chain[f"S{states - 1}"] = {"Type": "Pass", "End": True}
    definition = {"StartAt": "S0", "States": chain}
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        status, _, _ = run(definition, {"order": {"id": 1, "items": [1, 2, 3]}})
        assert status == "SUCCEEDED"
        rates.append(states / (time.perf_counter() - started))
    return rates


def _collector(states: int, rounds: int) -> list[float]:
    from hoptrace_collector.stepfunctions.history_spans import execution_spans
    from tests.localcloud.stepfunctions.runner import ARN, run

    chain = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(states - 1)}
    chain[f"S{states - 1}"] = {"Type": "Pass", "End": True}
    _, _, the_run = run({"StartAt": "S0", "States": chain}, {})
    described = {"executionArn": ARN, "stateMachineArn": the_run.state_machine_arn, "status": "SUCCEEDED",
                 "startDate": the_run.start_time, "stopDate": the_run.history.events[-1]["timestamp"],
                 "traceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        spans = execution_spans(described, the_run.history.events)
        times.append((time.perf_counter() - started) * 1000)
        assert len(spans) == states + 1
    return times


def run(rounds: int = 200, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    rounds = 20 if quick else rounds
    load_before = os.getloadavg()[0]
    log(f"one-task machine vs direct invoke, {rounds} interleaved rounds")
    overhead = _task_overhead(rounds, log)
    log("interpreter throughput, 200 Pass states")
    rates = _interpreter(200, 5 if quick else 20)
    log("collector: history of 100 states -> spans")
    rebuild = _collector(100, 10 if quick else 50)
    return {"rounds": rounds, "overhead": overhead, "rates": rates, "rebuild": rebuild,
            "load": (load_before, os.getloadavg()[0])}


def markdown(result: dict[str, Any]) -> str:
    direct, machine = result["overhead"]["direct"], result["overhead"]["machine"]
    added = [m - d for d, m in zip(direct, machine, strict=True)]
    rows = [
        "| measurement | n | median | p95 |", "|---|---|---|---|",
        f"| direct Invoke of a warm function (the floor) | {len(direct)} | {statistics.median(direct):.2f} ms "
        f"| {_p(direct, 0.95):.2f} ms |",
        f"| the same function as a one-task state machine, start to SUCCEEDED | {len(machine)} | "
        f"{statistics.median(machine):.2f} ms | {_p(machine, 0.95):.2f} ms |",
        f"| added by the runner per Lambda task (paired difference) | {len(added)} | "
        f"{statistics.median(added):.2f} ms | {_p(added, 0.95):.2f} ms |",
        f"| interpreter, Pass states per second (chain of 200) | {len(result['rates'])} | "
        f"{statistics.median(result['rates']):,.0f} /s | — |",
        f"| collector, history of 100 states → 101 spans | {len(result['rebuild'])} | "
        f"{statistics.median(result['rebuild']):.2f} ms | {_p(result['rebuild'], 0.95):.2f} ms |",
    ]
    load = result["load"]
    return "\n".join(rows) + f"\n\n1-minute load average {load[0]:.2f} before, {load[1]:.2f} after."


if __name__ == "__main__":
    print(markdown(run()))
