"""Subscription payloads in the exact shape CloudWatch Logs sends, built around real layer output.

The envelope (owner, log group, stream, filter names, 56-digit event ids) comes from the
shared fixture `tests/events/cloudwatch_logs.json`; span lines come from running a handler
through the real layer, so the collector is tested on what functions actually print.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hoptrace import wire
from tests.conftest import LambdaContext, load_event

ROOT = Path(__file__).resolve().parents[2]

T0_MS = 1795593398000  # the fixture's timestamp
REQUEST_ID = LambdaContext().aws_request_id
FUNCTION = LambdaContext().function_name
LOG_GROUP = LambdaContext().log_group_name


def fixture_document() -> dict[str, Any]:
    return json.loads(gzip.decompress(base64.b64decode(load_event("cloudwatch_logs")["awslogs"]["data"])))


def document(messages: Iterable[str | tuple[int, str]], *, group: str | None = None, stream: str | None = None,
             start_ms: int = T0_MS) -> dict[str, Any]:
    """The fixture's document with these messages as its log events (one ms apart unless timed)."""
    doc = fixture_document()
    template = doc["logEvents"][0]
    events = []
    for index, item in enumerate(messages):
        timestamp, message = item if isinstance(item, tuple) else (start_ms + index, item)
        events.append({"id": f"{int(template['id'][:20]) + index:020d}{index:036d}", "timestamp": timestamp,
                       "message": message})
    doc["logEvents"] = events
    if group is not None:
        doc["logGroup"] = group
    if stream is not None:
        doc["logStream"] = stream
    return doc


def wrap_document(doc: Any, *, raw_json: bytes | None = None) -> dict[str, Any]:
    data = raw_json if raw_json is not None else json.dumps(doc, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(data)).decode()}}


def subscription_event(messages: Iterable[str | tuple[int, str]], **kwargs: Any) -> dict[str, Any]:
    return wrap_document(document(messages, **kwargs))


def function_env(context: LambdaContext) -> dict[str, str]:
    """The variables Lambda sets for the function `context` belongs to."""
    return {"AWS_LAMBDA_FUNCTION_NAME": context.function_name, "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name, "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name}


RUNTIME = """
import json, sys
from hoptrace.handler import handler
from tests.conftest import LambdaContext
handler(json.loads(sys.argv[1]), LambdaContext())
"""


@functools.lru_cache(maxsize=16)
def _traced(handler_source: str, event_json: str, settings: tuple[tuple[str, str], ...] = ()) -> tuple[str, ...]:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "app.py").write_text(handler_source)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOPTRACE_", "OTEL_", "AWS_"))}
        env.update(function_env(LambdaContext()), HOPTRACE_HANDLER="app.handler",
                   PYTHONPATH=os.pathsep.join([folder, str(ROOT)]), **dict(settings))
        done = subprocess.run([sys.executable, "-c", RUNTIME, event_json], env=env, capture_output=True, text=True,
                              timeout=60, check=True)
    return tuple(line + "\n" for line in done.stdout.splitlines() if wire.is_span_line(line))


def traced_lines(handler_source: str, event: Any, **settings: str) -> list[str]:
    """What the real layer prints when `handler_source`'s `handler` runs on `event` as a cold Lambda process
    (the `orders` function of tests.conftest.LambdaContext, attached by handler redirect); `settings`: more
    variables of the function's environment (`HOPTRACE_COMPRESS_LINES="true"`)."""
    return list(_traced(textwrap.dedent(handler_source), json.dumps(event), tuple(sorted(settings.items()))))


OK_HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "{}"}
"""


def start_line(request_id: str = REQUEST_ID) -> str:
    return f"START RequestId: {request_id} Version: $LATEST\n"


def end_line(request_id: str = REQUEST_ID) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(request_id: str = REQUEST_ID, duration: float = 12.34, memory: int = 128, used: int = 70,
                init: float | None = None, extra: str = "") -> str:
    line = (f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms"
            f"\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t")
    if init is not None:
        line += f"Init Duration: {init:.2f} ms\t"
    return line + extra + "\n"


def timeout_line(request_id: str = REQUEST_ID, seconds: float = 3.0) -> str:
    return f"2026-11-25T10:00:03.000Z {request_id} Task timed out after {seconds:.2f} seconds\n"
