"""`hoptrace try`: watch the layer trace AWS-shaped events, no AWS account needed.

Runs a small sample handler through the real handler redirect (`hoptrace.handler`) in a
fresh process per event, exactly as Lambda would load it, and prints the spans it wrote
as a tree. `--event FILE` traces your own event instead of the bundled samples.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hoptrace import semconv, wire

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


LEGEND = """\
How to read it: one line per span — name [kind, duration] and its trace id; an indented line ran inside
the line above it.
  init …              the cold start: the process loading your code, before the first invocation
  cold start          the first invocation of a fresh process (it waited for the init above)
  continues T…/P      the event carried trace context: the span joins trace T under P, the caller's span
  context from X      where in the event that context was found
  link→T…             a batch record from another trace: linked, and its own process span sits in trace T
  ERROR why           the span failed, and why (a record the handler returned in batchItemFailures fails alone)"""
NEXT_STEPS = """\
Next: `hoptrace try --event your-event.json` traces an event of yours; `hoptrace demo` runs a whole shop on
this machine, traced, with the dashboard (docs/demo.md); to trace your own functions on AWS, build the
layer and attach it: `hoptrace layer build`, then `hoptrace attach` (docs/deploy.md)."""


def run(args: argparse.Namespace) -> int:
    events = args.event or sorted(SAMPLES.glob("*.json"))
    for path in events:
        problem = _event_problem(path)
        if problem:
            print(f"hoptrace try: {problem}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "sample.py").write_text(SAMPLE_APP)
        for path in events:
            env = {**os.environ, "HOPTRACE_HANDLER": "sample.handler", "AWS_LAMBDA_FUNCTION_NAME": "sample",
                   "PYTHONPATH": os.pathsep.join([folder, *sys.path])}
            done = subprocess.run([sys.executable, "-c", RUNTIME, str(path)], env=env, capture_output=True,
                                  text=True, timeout=60)
            print(f"\n== {path.name}")
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                print(f"hoptrace try: the sample handler failed on {path.name}: {last}", file=sys.stderr)
                return 1
            lines = [line for line in done.stdout.splitlines() if wire.is_span_line(line)]
            if args.raw:
                print("\n".join(lines))
            spans = [s for line in lines for s in wire.decode(line)[1]]
            print_tree(spans)
    print(f"\n{LEGEND}\n\n{NEXT_STEPS}")
    return 0


def _event_problem(path: Path) -> str | None:
    """Why an event file cannot be traced (one line), or None."""
    if not path.is_file():
        return f"no such event file: {path}"
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text; an event is a JSON document"
    except json.JSONDecodeError as exc:
        return f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); an event is a JSON document"
    return None


def print_tree(spans: list[dict]) -> None:
    """Spans as a tree. A span that starts before its parent (the init span of a cold start) did not run
    inside it: it is drawn beside its parent, before it, as the time line has it."""
    by_id = {s["span_id"]: s for s in spans}
    children: dict[str | None, list[dict]] = {}
    for span in sorted(spans, key=lambda s: s["start"]):
        parent = by_id.get(span["parent_id"])
        while parent is not None and span["start"] < parent["start"]:
            parent = by_id.get(parent["parent_id"])
        children.setdefault(parent["span_id"] if parent else None, []).append(span)

    def show(span: dict, depth: int) -> None:
        print(f"  {'  ' * depth}{_line(span, by_id)}")
        for child in children.get(span["span_id"], []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


def _line(span: dict, by_id: dict[str, dict]) -> str:
    attributes = span["attributes"]
    duration = (span["end"] - span["start"]) / 1e6
    notes = []
    message_id = attributes.get(semconv.MESSAGING_MESSAGE_ID) if semconv.FAAS_TRIGGER not in attributes else None
    if message_id:
        notes.append(f"message {message_id}")
    if attributes.get(semconv.FAAS_COLDSTART):
        notes.append("cold start")
    if span["status"]["code"] == "error":
        notes.append("ERROR " + span["status"].get("message", ""))
    if span["parent_id"] and span["parent_id"] not in by_id:
        notes.append(f"continues {span['trace_id'][:8]}…/{span['parent_id']}")
    for link in span.get("links", []):
        notes.append(f"link→{link['trace_id'][:8]}…")
    source = attributes.get(semconv.CONTEXT_SOURCE)
    if source and source != "none":
        notes.append(f"context from {source}")
    return (f"{span['name']}  [{span['kind']}, {duration:.2f} ms]  trace {span['trace_id']}"
            + (f"  ({'; '.join(notes)})" if notes else ""))


def _main() -> None:  # pragma: no cover - convenience for `python -m`
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    _main()
