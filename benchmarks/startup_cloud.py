"""The startup benchmark's local cloud: one function per peer and handler, and the collector behind hoptrace's logs.

The template is an ordinary SAM template (written to the run's temporary folder): a queue, one layer
per peer and, for every peer and handler, a function whose worker the local cloud starts exactly as it
starts the demo's. What the platform reports (REPORT's Duration and Init Duration) is what is measured.
hoptrace's log lines go through the local cloud's log router, as CloudWatch Logs subscription
payloads, into the real collector ingest and a temporary SQLite store, so the run can check that
every invocation was stored.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from benchmarks.peers import APPS, XRAY_PEERS, Peer
from benchmarks.sinks import OtlpReceiver, XrayDaemons
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store
from hoptrace_collector.store.rules import is_invocation_span
from hoptrace_localcloud import pool
from hoptrace_localcloud.cloud import LocalCloud
from hoptrace_localcloud.functions import PYTHON_TAG
from hoptrace_localcloud.logstore import LogEvent
from hoptrace_localcloud.logsubscriptions import LogRouter, Subscription
from hoptrace_localcloud.pool import Invocation

# Function per peer and case: cold starts get a fresh worker each round; warm cases keep theirs.
COLD = "cold"
WARM_CASES = ("noop", "three_calls", "three_spans")
CASES = (COLD, *WARM_CASES)
_HANDLERS = {COLD: "sqs_handler", **{case: case for case in WARM_CASES}}
# A scheduled EventBridge event: a trigger every tracer knows, carrying no trace context of its own.
EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Scheduled Event",
         "source": "aws.events", "account": "123456789012", "time": "2026-11-25T08:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"], "detail": {}}
HOPTRACE_PEERS = ("hoptrace", "hoptrace-sdk")  # their logs go through the collector: nothing may be lost
_REPORT = re.compile(r"REPORT RequestId: (\S+)\tDuration: ([\d.]+) ms.*?(?:Init Duration: ([\d.]+) ms)?$")


def logical_id(peer: str, case: str) -> str:
    """A template logical id (alphanumeric only): ("stock-otel", "three_spans") -> "StockOtelThreeSpans"."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", f"{peer}_{case}"))


def _sampled_trace_header() -> str:
    """Active tracing's header: Sampled=1, so the X-Ray SDK records and OpenTelemetry's parent-based sampler samples."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=1"


class BenchCloud:
    """The running local cloud with the peers' functions, the span sinks and the collector."""

    def __init__(self, workdir: Path, peers: dict[str, Peer]) -> None:
        self.peers = peers
        self.otlp = OtlpReceiver()
        xray_ids = [logical_id(p, c) for p in peers if p in XRAY_PEERS for c in CASES]
        self.xray = XrayDaemons(xray_ids)
        code = workdir / "src"
        code.mkdir()
        for module in ("app.py", "xray_app.py", "manual_xray.py", "manual_otel.py", "powertools_app.py",
                       "bench_timer.py"):
            shutil.copy(APPS / module, code / module)
        self._timings = workdir / "timings"
        self._timings.mkdir()
        template = workdir / "template.json"
        template.write_text(json.dumps(self._template(code), indent=1))
        self.issued: dict[str, list[str]] = defaultdict(list)
        self.reports: dict[str, tuple[float, float | None]] = {}
        # A busy machine can stretch stock OpenTelemetry's init past Lambda's 10 s limit, which would end the
        # run; the benchmark measures init, so it lets it finish.
        pool._INIT_TIMEOUT = max(pool._INIT_TIMEOUT, 120.0)
        # No log mirroring to moto and no reaping: neither may spend CPU while a peer is being timed.
        self.cloud = LocalCloud(template, mirror_logs_to_moto=False, idle_timeout=10**6, max_concurrency=1)
        try:
            self.cloud.start()
            self.cloud.logs.add_listener(self._on_log)
            self.store = open_store(f"sqlite:///{workdir / 'spans.db'}")
            self._router = LogRouter(self.cloud.config.account_id, interval=10**6)  # flushed once, after the runs
            ingestor = Ingestor(self.store)
            for case in CASES:
                for peer in HOPTRACE_PEERS:
                    group = self.cloud.function(logical_id(peer, case)).spec.log_group
                    self._router.add(Subscription("hoptrace-collector", group, lambda _message: True,
                                                  ingestor.ingest, "/aws/lambda/hoptrace-collector"))
            self.cloud.logs.add_listener(self._router)
            self._sqs = self.cloud.client("sqs")
            self._queue = self.cloud.resource("BenchQueue").ref
        except BaseException:
            self.stop()
            raise

    def _template(self, code: Path) -> dict[str, Any]:
        resources: dict[str, Any] = {"BenchQueue": {"Type": "AWS::SQS::Queue", "Properties": {}}}
        for peer in self.peers.values():
            layer_id = logical_id(peer.name, "layer")
            if peer.layer is not None:
                resources[layer_id] = {"Type": "AWS::Serverless::LayerVersion",
                                       "Properties": {"LayerName": f"bench-{peer.name}", "ContentUri": str(peer.layer)}}
            for case in CASES:
                lid = logical_id(peer.name, case)
                env = {"QUEUE_URL": {"Ref": "BenchQueue"}, "AWS_LAMBDA_EXEC_WRAPPER": str(peer.exec_wrapper),
                       **peer.env}
                if case != COLD:
                    env["BENCH_TIMINGS"] = str(self._timings / f"{lid}.txt")
                if peer.redirect:
                    env["HOPTRACE_HANDLER"] = peer.user_handler(_HANDLERS[case])
                if peer.name == "stock-otel":
                    env.update(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=self.otlp.endpoint(lid), OTEL_METRICS_EXPORTER="none",
                               OTEL_LOGS_EXPORTER="none")
                if peer.name in XRAY_PEERS:
                    env["AWS_XRAY_DAEMON_ADDRESS"] = self.xray.address(lid)
                resources[lid] = {"Type": "AWS::Serverless::Function", "Properties": {
                    "FunctionName": f"bench-{peer.name}-{case.replace('_', '-')}", "CodeUri": str(code),
                    "Handler": peer.handler(_HANDLERS[case]), "Runtime": PYTHON_TAG, "Timeout": 30, "MemorySize": 1024,
                    "Layers": [{"Ref": layer_id}] if peer.layer is not None else [],
                    "Environment": {"Variables": env}}}
        return {"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
                "Resources": resources}

    def _on_log(self, event: LogEvent) -> None:
        if event.message.startswith("REPORT"):
            match = _REPORT.match(event.message)
            if match:
                init = float(match.group(3)) if match.group(3) else None
                self.reports[match.group(1)] = (float(match.group(2)), init)

    def invoke(self, peer: str, case: str) -> Invocation:
        """One synchronous invocation; a failure stops the benchmark with the function's last log lines."""
        lid = logical_id(peer, case)
        invocation = self.cloud.function(lid).invoke(EVENT, None, _sampled_trace_header())
        self.issued[lid].append(invocation.request_id)
        if invocation.failed:
            tail = "\n    ".join(self.cloud.log_lines(lid)[-15:])
            raise RuntimeError(f"{lid} failed: {invocation.error}\n  its log:\n    {tail}")
        return invocation

    def cold_start(self, peer: str, case: str) -> tuple[float, float]:
        """(Init Duration, first Duration) of a fresh worker, as the platform's REPORT line gives them."""
        self.cloud.function(logical_id(peer, case)).reap_idle(-1)  # the previous worker goes: a new process
        invocation = self.invoke(peer, case)
        duration, init = self.reports[invocation.request_id]
        if init is None:
            raise RuntimeError(f"{peer}: the invocation after reaping was not a cold start")
        return init, duration

    def timings_ms(self, peer: str, case: str) -> dict[str, tuple[float, float]]:
        """In-worker (wall, CPU) handler time per request id (warm cases), from the timer in front of the
        peer's handler."""
        path = self._timings / f"{logical_id(peer, case)}.txt"
        rows = (line.split() for line in path.read_text().splitlines()) if path.exists() else ()
        return {request_id: (int(wall) / 1e6, int(cpu) / 1e6) for request_id, wall, cpu in rows}

    def stop_workers(self, case: str) -> None:
        for peer in self.peers:
            self.cloud.function(logical_id(peer, case)).reap_idle(-1)

    def purge_queue(self) -> None:
        """moto's SQS slows as a queue grows: every peer sends into the same, short queue.

        SQS allows one PurgeQueue per queue a minute (moto enforces it too), so a short run drains instead.
        """
        try:
            self._sqs.purge_queue(QueueUrl=self._queue)
        except ClientError as error:
            if "PurgeQueueInProgress" not in str(error.response.get("Error", {}).get("Code")):
                raise
            for _ in range(100):
                messages = self._sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10,
                                                     WaitTimeSeconds=0).get("Messages", [])
                if not messages:
                    return
                self._sqs.delete_message_batch(QueueUrl=self._queue, Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])

    def log_bytes(self, peer: str, case: str) -> dict[str, int]:
        """Bytes of log event messages (UTF-8) per request id, START/END/REPORT lines included."""
        group = self.cloud.function(logical_id(peer, case)).spec.log_group
        sizes: dict[str, int] = defaultdict(int)
        current = None
        for event in self.cloud.logs.events(group):
            if event.message.startswith("START RequestId: "):
                current = event.message.split()[2]
            if current is not None:
                sizes[current] += len(event.message.encode())
            if event.message.startswith("REPORT RequestId: "):
                current = None
        return sizes

    def exported(self, peer: str, case: str) -> dict[str, int] | None:
        """What a peer sent outside the log (OTLP requests, X-Ray datagrams) for one function."""
        lid = logical_id(peer, case)
        if peer == "stock-otel":
            return self.otlp.summary(lid)
        if peer in XRAY_PEERS:
            return self.xray.summary(lid)
        return None

    def stored(self) -> dict[str, int]:
        """Route hoptrace's logs to the collector now, then count what the store holds against what ran."""
        self._router.flush()
        issued = stored = reports = 0
        for case, peer in ((c, p) for c in CASES for p in HOPTRACE_PEERS):
            function = self.cloud.function(logical_id(peer, case)).spec.name
            ids = set(self.issued[logical_id(peer, case)])
            spans = self.store.spans(function=function, limit=10 * len(ids) + 100)
            found = {span.request_id for span in spans if is_invocation_span(span)}
            issued += len(ids)
            stored += len(ids & found)
            reports += len({r.request_id for r in self.store.invocations(function=function, limit=len(ids) + 100)}
                           & ids)
        return {"invocations": issued, "stored": stored, "platform_reports": reports}

    def stop(self) -> None:
        self.cloud.stop()
        self.otlp.stop()
        self.xray.stop()
        if hasattr(self, "store"):
            self.store.close()
