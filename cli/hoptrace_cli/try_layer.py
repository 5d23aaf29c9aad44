"""`hoptrace try`: watch the layer trace AWS-shaped events, no AWS account needed.

Runs a small sample handler through the real handler redirect (`hoptrace.handler`) in a
fresh process per event, exactly as Lambda would load it, and prints the spans it wrote
as a tree. `--event FILE` traces your own event instead of the bundled samples.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hoptrace import wire

SAMPLES = Path(__file__).parent / "sample_events"
SAMPLE_APP = '''
import json
def handler(event, context):
    if isinstance(event, dict) and "Records" in event:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][-1]["messageId"]}]}
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
'''
RUNTIME = '''
import json, sys, types
from hoptrace.handler import handler
context = types.SimpleNamespace(aws_request_id="try-1", function_name="sample", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:sample")
handler(json.load(open(sys.argv[1])), context)
'''


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event", type=Path, action="append",
                        help="an event JSON file to trace (repeatable); default: the bundled samples")
    parser.add_argument("--raw", action="store_true", help="print the raw HOPTRACE lines too")


def run(args: argparse.Namespace) -> int:
    events = args.event or sorted(SAMPLES.glob("*.json"))
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "sample.py").write_text(SAMPLE_APP)
        for path in events:
            if not path.is_file():
                print(f"hoptrace try: no such event file: {path}", file=sys.stderr)
                return 2
            env = {**os.environ, "HOPTRACE_HANDLER": "sample.handler", "AWS_LAMBDA_FUNCTION_NAME": "sample",
                   "PYTHONPATH": os.pathsep.join([folder, *sys.path])}
            done = subprocess.run([sys.executable, "-c", RUNTIME, str(path)], env=env, capture_output=True,
                                  text=True, timeout=60)
            print(f"\n== {path.name}")
            if done.returncode != 0:
                print(done.stderr.strip(), file=sys.stderr)
                return 1
            lines = [line for line in done.stdout.splitlines() if wire.is_span_line(line)]
            if args.raw:
                print("\n".join(lines))
            spans = [s for line in lines for s in wire.decode(line)[1]]
            print_tree(spans)
    return 0


def print_tree(spans: list[dict]) -> None:
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict]] = {}
    for span in sorted(spans, key=lambda s: s["start"]):
        parent = span["parent_id"] if span["parent_id"] in ids else None
        children.setdefault(parent, []).append(span)

    def show(span: dict, depth: int) -> None:
        attributes = span["attributes"]
        duration = (span["end"] - span["start"]) / 1e6
        flags = []
        if attributes.get("faas.coldstart"):
            flags.append("cold start")
        if span["status"]["code"] == "error":
            flags.append("ERROR " + span["status"].get("message", ""))
        if span["parent_id"] and span["parent_id"] not in ids:
            flags.append(f"continues {span['trace_id'][:8]}…/{span['parent_id']}")
        for link in span.get("links", []):
            flags.append(f"link→{link['trace_id'][:8]}…")
        source = attributes.get("hoptrace.context_source")
        if source and source != "none":
            flags.append(f"context from {source}")
        print(f"  {'  ' * depth}{span['name']}  [{span['kind']}, {duration:.2f} ms]  trace {span['trace_id']}"
              + (f"  ({'; '.join(flags)})" if flags else ""))
        for child in children.get(span["span_id"], []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


def _main() -> None:  # pragma: no cover - convenience for `python -m`
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    _main()
