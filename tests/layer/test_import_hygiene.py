"""The default engine imports nothing the function did not: no OpenTelemetry, wrapt, packaging, importlib.metadata.

Each check runs in a fresh interpreter, as a cold start does: the handler redirect imports the
user's module, then one invocation runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hoptrace.triggers import TRIGGERS

FORBIDDEN = ("opentelemetry", "wrapt", "packaging", "importlib.metadata", "botocore", "urllib3", "urllib.request",
             "hoptrace.wire_deflate")  # line compression is loaded only by those who turn it on
RUNTIME = r"""
import json, sys, types
before = set(sys.modules)
import hoptrace.handler
context = types.SimpleNamespace(aws_request_id="r-1", function_name="f", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                get_remaining_time_in_millis=lambda: 30000)
result = hoptrace.handler.handler({"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": "{}",
                                               "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "attributes": {}}]},
                                  context)
print("LOADED " + json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by(tmp_path: Path, app: str, engine: str = "light") -> tuple[set[str], str]:
    (tmp_path / "app.py").write_text(app)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOPTRACE_")}
    env.update({"HOPTRACE_HANDLER": "app.handler", "HOPTRACE_ENGINE": engine, "PYTHONPATH": str(tmp_path)})
    done = subprocess.run([sys.executable, "-c", RUNTIME], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED "))
    return set(json.loads(line[len("LOADED "):])), done.stdout


def _forbidden(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}


def test_a_plain_function_loads_nothing_forbidden(tmp_path: Path) -> None:
    # GIVEN a handler that imports nothing / WHEN traced by the default engine through one invocation
    modules, out = loaded_by(tmp_path, "def handler(event, context):\n    return {'batchItemFailures': []}\n")
    # THEN none of OpenTelemetry, wrapt, packaging, importlib.metadata (nor botocore, urllib3) was imported
    assert "HOPTRACE " in out and not _forbidden(modules), _forbidden(modules)


def test_a_boto3_function_loads_only_what_boto3_itself_loads(tmp_path: Path) -> None:
    # GIVEN the same boto3 function with and without the layer
    app = "import boto3\nSQS = boto3.client('sqs', region_name='us-east-1')\n" \
          "def handler(event, context):\n    return {}\n"
    modules, _ = loaded_by(tmp_path, app)
    probe = "import json, sys; b = set(sys.modules); import boto3; boto3.client('sqs', region_name='us-east-1');" \
            " print(json.dumps(sorted(set(sys.modules) - b)))"
    bare = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                         timeout=120).stdout))
    # THEN the layer added nothing forbidden that boto3 had not already loaded
    assert not (_forbidden(modules) - bare) - {"botocore", "urllib3"}, _forbidden(modules) - bare


def test_a_function_using_opentelemetry_gets_the_bridge(tmp_path: Path) -> None:
    app = ("from opentelemetry import trace\n"
           "def handler(event, context):\n"
           "    with trace.get_tracer('user').start_as_current_span('charge'):\n"
           "        return {}\n")
    modules, out = loaded_by(tmp_path, app)
    assert "hoptrace.engine.bridge" in modules and "opentelemetry.sdk" not in modules
    assert '"name":"charge"' in out


def test_the_layer_stays_within_its_import_budget(tmp_path: Path) -> None:
    # The budget is counted in modules, not milliseconds, so it holds on a loaded machine: every module of
    # ours is read and executed at each cold start (the benchmark measures what they cost). An SQS
    # invocation loads the engine, the wrapper and the trigger modules tried before `sqs`, nothing else.
    modules, _ = loaded_by(tmp_path, "def handler(event, context):\n    return {}\n")
    ours = {m for m in modules if m.startswith("hoptrace")}
    assert len(ours) <= 45, sorted(ours)
    assert not {m for m in ours if m.startswith("hoptrace.triggers.")} - {
        f"hoptrace.triggers.{name}" for name in (*TRIGGERS[:TRIGGERS.index("sqs") + 1], "model", "_messages",
                                                 "_http", "_s3", "eventbridge", "invoke")}


def test_an_aws_service_module_is_loaded_by_the_first_call_to_that_service(tmp_path: Path) -> None:
    # GIVEN a boto3 function that makes clients for three services but calls none of them
    app = ("import boto3\nfor name in ('sqs', 'dynamodb', 's3'):\n    boto3.client(name, region_name='us-east-1')\n"
           "def handler(event, context):\n    return {}\n")
    modules, _ = loaded_by(tmp_path, app)
    # THEN the SDK hook is installed, but none of the per-service modules
    assert "hoptrace.outbound.aws" in modules
    assert not {m for m in modules if m.startswith("hoptrace.outbound.")} & {
        f"hoptrace.outbound.{name}" for name in ("sqs", "sns", "events", "lmbd", "dynamodb", "s3", "kinesis",
                                                 "stepfunctions")}


INIT_WORK = r"""
import dataclasses, json, re, types
decorated, compiled = [], []
real_dataclass, real_compile = dataclasses.dataclass, re._compile
def dataclass(cls=None, /, **options):
    def wrap(c):
        decorated.append(c.__module__ + "." + c.__qualname__)
        return real_dataclass(**options)(c)
    return wrap if cls is None else wrap(cls)
def compile_(pattern, flags):
    compiled.append(str(pattern))
    return real_compile(pattern, flags)
dataclasses.dataclass, re._compile = dataclass, compile_
import hoptrace.handler
context = types.SimpleNamespace(aws_request_id="r-1", function_name="f", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                get_remaining_time_in_millis=lambda: 30000)
hoptrace.handler.handler({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, context)
from hoptrace import redaction
print("INIT " + json.dumps({"decorated": [d for d in decorated if d.startswith("hoptrace")],
                            "lazy_compiled": [name for name in ("_VALUE", "_BARE_EQ", "_PEM_END", "_USERINFO")
                                              if getattr(redaction, name)._compiled is not None]}))
"""


def test_init_compiles_no_dataclass_but_the_public_config_and_no_secret_parsing_pattern(tmp_path: Path) -> None:
    # GIVEN a plain function, traced through its cold start and one invocation whose text holds no secret
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOPTRACE_")}
    env.update({"HOPTRACE_HANDLER": "app.handler", "PYTHONPATH": str(tmp_path)})
    done = subprocess.run([sys.executable, "-c", INIT_WORK], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("INIT "))[len("INIT "):])
    # THEN `@dataclass` (methods compiled from source at import, ~1 ms a class) ran for Config alone
    assert found["decorated"] == ["hoptrace.config.Config"]
    # AND the patterns that take a found secret apart were never compiled
    assert found["lazy_compiled"] == []
