"""The demo shop's template: deployable as it stands, and traced without any code change."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hoptrace_localcloud.template import load_template

DEMO = Path(__file__).parents[2] / "demo_services"
TEMPLATE = DEMO / "template.yaml"


@pytest.mark.slow
def test_cfn_lint_passes() -> None:
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([cfn_lint, str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_service_imports_hoptrace() -> None:
    # User code stays user code: tracing comes from the layer attached in the template.
    for source in DEMO.glob("*/*.py"):
        tree = ast.parse(source.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & {"hoptrace", "opentelemetry"}, source
        assert imported <= {"json", "os", "time", "uuid", "random", "decimal", "collections", "urllib", "boto3"}, (
            source, imported)


def test_every_function_has_the_layer_and_every_service_log_group_reaches_the_collector() -> None:
    template = load_template(TEMPLATE, {})  # Globals merged into each function, as SAM does
    functions = {lid: res["Properties"] for lid, res in template.resources.items()
                 if res["Type"] == "AWS::Serverless::Function"}
    for props in functions.values():
        assert props["Layers"][0] == {"Ref": "HoptraceLayerArn"}
        assert props["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/hoptrace-exec-wrapper"
    services = set(functions) - {"CollectorFunction", "DlqWatcherFunction", "AlertEvaluatorFunction",
                                 "StepFunctionsCollectorFunction"}
    subscribed = {event["Properties"]["LogGroupName"]["Ref"]
                  for event in functions["CollectorFunction"]["Events"].values()}
    assert subscribed == {f"{lid.removesuffix('Function')}Logs" for lid in services}
    assert functions["CollectorFunction"]["Environment"]["Variables"]["HOPTRACE_DISABLED"] == "true"
