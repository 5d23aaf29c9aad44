"""Attaching without code changes, in real processes: handler redirect, exec wrapper, cold starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hoptrace
from tests.layer.spans import decode_output

EXEC_WRAPPER = Path(hoptrace.__file__).parent / "bin" / "exec-wrapper"
EVENTS = Path(__file__).parents[1] / "events"

# A stand-in for the Lambda Python runtime: import the handler named by _HANDLER, as the
# runtime does (folder/module.function), and invoke it twice with a fixture event.
RUNTIME = r"""
import importlib, json, os, sys, types
spec = os.environ["_HANDLER"]
folder, _, dotted = spec.rpartition("/")
if folder:
    sys.path.insert(0, folder)
module_name, function_name = dotted.rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
event = json.load(open(sys.argv[1]))
context = types.SimpleNamespace(aws_request_id="req-1", invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                function_name="f", client_context=None)
for _ in range(2):
    print("RESULT " + json.dumps(handler(event, context)))
"""

APP = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hi'}\n"


def run_runtime(tmp_path: Path, env: dict[str, str], event: str = "apigateway_v1",
                command_prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text(APP)
    nested = tmp_path / "src" / "orders"
    nested.mkdir(parents=True, exist_ok=True)
    (nested / "app.py").write_text(APP)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HOPTRACE_", "_HANDLER", "_X_AMZN"))}
    full_env.update({"LAMBDA_TASK_ROOT": str(tmp_path), "AWS_LAMBDA_FUNCTION_NAME": "orders",
                     "PYTHONPATH": str(tmp_path), **env})
    command = [*(command_prefix or []), sys.executable, "-c", RUNTIME, str(EVENTS / f"{event}.json")]
    return subprocess.run(command, cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=60)


def results(stdout: str) -> list[dict]:
    return [json.loads(line[7:]) for line in stdout.splitlines() if line.startswith("RESULT ")]


@pytest.mark.parametrize("spec", ["app.handler", "src/orders/app.handler"])
def test_handler_redirect(tmp_path: Path, spec: str) -> None:
    # GIVEN a function whose handler is hoptrace's redirect, pointing at the user's handler
    done = run_runtime(tmp_path, {"_HANDLER": "hoptrace.handler.handler", "HOPTRACE_HANDLER": spec})
    # THEN the user's handler answers and each invocation wrote its spans
    assert done.returncode == 0, done.stderr
    assert results(done.stdout) == [{"statusCode": 200, "body": "hi"}] * 2
    spans, _ = decode_output(done.stdout)
    invocations = [s for s in spans if "faas.coldstart" in s["attributes"]]
    # AND only the first invocation in the process is a cold start, with its init measured
    assert [s["attributes"]["faas.coldstart"] for s in invocations] == [True, False]
    assert invocations[0]["attributes"]["hoptrace.init_duration_ms"] > 0
    init = next(s for s in spans if s["name"] == "init orders")
    assert init["parent_id"] == invocations[0]["span_id"] and init["end"] <= invocations[0]["start"]


def test_exec_wrapper_rewrites_the_handler(tmp_path: Path) -> None:
    done = run_runtime(tmp_path, {"_HANDLER": "app.handler"}, command_prefix=[str(EXEC_WRAPPER)])
    assert done.returncode == 0, done.stderr
    assert results(done.stdout) == [{"statusCode": 200, "body": "hi"}] * 2
    assert len(decode_output(done.stdout)[0]) >= 2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (None, "HOPTRACE_HANDLER is not set"),
        ("app", "HOPTRACE_HANDLER='app' must look like 'module.function'"),
        ("nowhere.handler", "no module named 'nowhere'"),
        ("app.missing", "module 'app' has no function 'missing'"),
    ],
)
def test_wrong_handler_fails_at_init_with_a_clear_message(tmp_path: Path, spec: str | None, message: str) -> None:
    env = {"_HANDLER": "hoptrace.handler.handler"}
    if spec is not None:
        env["HOPTRACE_HANDLER"] = spec
    done = run_runtime(tmp_path, env)
    assert done.returncode != 0 and not results(done.stdout)  # failed at import, before any invocation
    assert "HandlerConfigError" in done.stderr and message in done.stderr


def test_a_user_module_that_fails_to_import_reports_lambdas_own_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import not_installed_dependency\n\ndef handler(event, context):\n    pass\n")
    done = run_runtime(tmp_path, {"_HANDLER": "hoptrace.handler.handler", "HOPTRACE_HANDLER": "broken.handler"})
    expected = "Unable to import module 'broken': No module named 'not_installed_dependency'"
    assert f"[ERROR] Runtime.ImportModuleError: {expected}" in done.stderr
    assert f"Runtime.ImportModuleError: {expected}" in done.stderr.splitlines()[-1]  # what the invocation raised
    assert "hoptrace.handler" not in done.stderr.splitlines()[-1]


def test_provisioned_concurrency_is_recorded_without_blaming_the_request(tmp_path: Path) -> None:
    done = run_runtime(tmp_path, {"_HANDLER": "hoptrace.handler.handler", "HOPTRACE_HANDLER": "app.handler",
                                  "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"})
    spans, _ = decode_output(done.stdout)
    first = next(s for s in spans if s["attributes"].get("faas.coldstart") is True)
    assert first["attributes"]["hoptrace.init_type"] == "provisioned-concurrency"
    assert "hoptrace.init_duration_ms" not in first["attributes"]
    assert not any(s["name"].startswith("init ") for s in spans)


def test_layer_never_imports_heavy_packages() -> None:
    # The X-Ray SDK alone costs ~240 ms at import; the dashboard's and local cloud's
    # dependencies must never be pulled into a function.
    code = "import sys, boto3, hoptrace.wrapper\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "f"})
    loaded = set(done.stdout.split())
    assert "hoptrace" in loaded
    assert not loaded & {"aws_xray_sdk", "pandas", "streamlit", "moto", "numpy", "requests", "google",
                         "hoptrace_collector", "hoptrace_dashboard", "hoptrace_localcloud", "hoptrace_cli"}


HEAVY_APP = ("import decimal\nimport fractions\nimport json\nimport shop_helpers\n"
             "def handler(event, context):\n    return {'statusCode': 200}\n")


@pytest.mark.parametrize("enabled", [True, False])
def test_cold_start_anatomy_shows_what_the_handlers_module_imported(tmp_path: Path, enabled: bool) -> None:
    # GIVEN a handler module importing stdlib and its own modules, with the anatomy setting on (or off)
    (tmp_path / "shop_helpers.py").write_text("import fractions\nVALUE = 1\n")
    env = {"_HANDLER": "hoptrace.handler.handler", "HOPTRACE_HANDLER": "shop.handler",
           "HOPTRACE_COLDSTART_IMPORTS": "true" if enabled else "false"}
    (tmp_path / "shop.py").write_text(HEAVY_APP)
    done = run_runtime(tmp_path, env)
    assert done.returncode == 0, done.stderr
    spans, _ = decode_output(done.stdout)
    init = next(s for s in spans if s["name"] == "init orders")
    imports = [s for s in spans if s["name"].startswith("import ")]
    if not enabled:  # THEN off, nothing is timed
        assert imports == []
        return
    # THEN each module the handler's module imported first (and the module itself) is a child of the init span
    names = {s["name"] for s in imports}
    assert {"import shop", "import decimal", "import fractions", "import shop_helpers"} <= names, names
    assert "import json" not in names  # already loaded before the user's code ran: it cost this init nothing
    assert all(s["parent_id"] == init["span_id"] and init["start"] <= s["start"] <= s["end"] <= init["end"]
               for s in imports)
    assert next(s for s in imports if s["name"] == "import shop")["attributes"]["hoptrace.init.module"] == "shop"
