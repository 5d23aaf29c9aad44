"""Benchmark of the local cloud: start-up time for a template, and the latency it adds per hop.

    python benchmarks/localcloud_bench.py [--template PATH] [--starts 5] [--requests 200] [--messages 50]

Prints a Markdown table (median and p95, milliseconds). The hops are measured on a one-function probe app
written to a temporary directory, whose handler does nothing, so what is measured is the local cloud's own
cost: HTTP -> API event -> worker -> response, and SQS SendMessage -> poller -> handler running.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from hoptrace_localcloud.cloud import LocalCloud

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATES = [ROOT / "demo_services" / "template.yaml",
                     ROOT / "tests" / "localcloud" / "apps" / "pipeline" / "template.yaml"]

PROBE_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  ProbeQueue:
    Type: AWS::SQS::Queue
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: probe.handler
      Runtime: python3.13
      Events:
        Ping:
          Type: HttpApi
          Properties: { Path: /ping, Method: get }
        Messages:
          Type: SQS
          Properties: { Queue: !GetAtt ProbeQueue.Arn, BatchSize: 1 }
"""

PROBE_HANDLER = """\
def handler(event, context):
    if "Records" in event:
        print("MARK " + event["Records"][0]["body"])
    return {"statusCode": 200, "body": "pong"}
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {len(values)} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} |"


def measure_startup(template: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        cloud = LocalCloud(template, api_port=0).start()
        times.append((time.perf_counter() - started) * 1000)
        cloud.stop()
    return times


def measure_translation(template: Path, runs: int) -> tuple[list[float], list[float], float]:
    """SAM -> CloudFormation: samtranslator's import (once), a translation, and a warm-cache translation."""
    import tempfile as _tempfile

    from hoptrace_localcloud.samtranslate import translate
    from hoptrace_localcloud.template import load_template

    source = load_template(template)
    started = time.perf_counter()
    import samtranslator.translator.translator  # noqa: F401  (what the first translation pays)
    import_ms = (time.perf_counter() - started) * 1000
    cold, warm = [], []
    with _tempfile.TemporaryDirectory() as cache:
        for _ in range(runs):
            started = time.perf_counter()
            translate(source.document, source.parameters, source.base_dir, "us-east-1", None)
            cold.append((time.perf_counter() - started) * 1000)
        translate(source.document, source.parameters, source.base_dir, "us-east-1", Path(cache))
        for _ in range(runs):
            started = time.perf_counter()
            translate(source.document, source.parameters, source.base_dir, "us-east-1", Path(cache))
            warm.append((time.perf_counter() - started) * 1000)
    return cold, warm, import_ms


def measure_hops(requests: int, messages: int) -> tuple[list[float], list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp)
        (app / "src").mkdir()
        (app / "template.yaml").write_text(PROBE_TEMPLATE)
        (app / "src" / "probe.py").write_text(PROBE_HANDLER)
        with LocalCloud(app / "template.yaml", api_port=0) as cloud:
            url = f"{cloud.api_url}/ping"
            urllib.request.urlopen(url).read()  # the cold start is not what this measures
            http_ms = []
            for _ in range(requests):
                started = time.perf_counter()
                urllib.request.urlopen(url).read()
                http_ms.append((time.perf_counter() - started) * 1000)
            handler_ms = [float(line.split("Duration: ")[1].split(" ms")[0])
                          for line in cloud.log_lines("ProbeFunction") if line.startswith("REPORT")][1:]
            sqs = cloud.client("sqs")
            queue = cloud.resource("ProbeQueue").url
            group = cloud.function("ProbeFunction").spec.log_group
            sqs_ms = []
            for index in range(messages + 1):
                marker = f"m-{index}"
                sent = time.time() * 1000
                sqs.send_message(QueueUrl=queue, MessageBody=marker)
                event = cloud.logs.wait_for(group, lambda e, m=marker: e.message == f"MARK {m}", timeout=30)
                if index:  # the first message pays the SQS poller's first long poll and the cold start
                    sqs_ms.append(event.timestamp - sent)
    return http_ms, handler_ms, sqs_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path,
                        default=next((path for path in DEFAULT_TEMPLATES if path.is_file()), None))
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args(argv)
    cold, warm, import_ms = measure_translation(args.template, args.starts)
    startup = measure_startup(args.template, args.starts)
    http_ms, handler_ms, sqs_ms = measure_hops(args.requests, args.messages)
    print(f"Local cloud benchmark ({sys.platform}, Python {sys.version.split()[0]}, "
          f"template {args.template.relative_to(ROOT) if args.template.is_relative_to(ROOT) else args.template})\n")
    print("| measurement | n | median ms | p95 ms |")
    print("|---|---|---|---|")
    print(row("start-up of LocalCloud (moto + resources + triggers)", startup))
    print(f"| import of samtranslator (once per process) | 1 | {import_ms:.1f} | {import_ms:.1f} |")
    print(row("SAM -> CloudFormation translation", cold))
    print(row("  the same from the translation cache", warm))
    print(row("HTTP -> handler -> response, round trip (warm)", http_ms))
    print(row("  of which handler Duration (REPORT)", handler_ms))
    print(row("SQS SendMessage -> handler running", sqs_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
