"""A function that exits its process or outgrows its memory dies the way it dies on Lambda: the caller gets
Runtime.ExitError and the log gets the platform lines the collector turns into a failed span."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import FAST

pytestmark = pytest.mark.e2e

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.13, CodeUri: src/, Timeout: 10}
Resources:
  ExitFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.exits}
  HungryFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.hungry, MemorySize: 128}
"""
APP = """
import os, time
def exits(event, context):
    os._exit(3)
def hungry(event, context):
    hoard = []
    while True:  # 8 MB at a time, each page touched, until the platform steps in
        hoard.append(bytearray(os.urandom(1)) * (8 << 20))
        time.sleep(0.005)
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("deaths")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(APP)
    (root / "template.yaml").write_text(TEMPLATE)
    with LocalCloud(Path(root / "template.yaml"), FAST) as running:
        yield running


def test_a_process_exit_is_a_runtime_exit_error_with_platform_lines(cloud: LocalCloud) -> None:
    result = cloud.invoke("ExitFunction", {})
    assert result.error["errorType"] == "Runtime.ExitError"
    assert result.error["errorMessage"].endswith("Runtime exited with error: exit status 3")
    lines = cloud.log_lines("ExitFunction")
    assert f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3" in lines
    assert "Runtime.ExitError" in lines
    report = next(line for line in lines if line.startswith(f"REPORT RequestId: {result.request_id}"))
    assert report.endswith("Status: error\tError Type: Runtime.ExitError")


def test_outgrowing_memory_size_kills_the_process_like_lambda(cloud: LocalCloud) -> None:
    result = cloud.invoke("HungryFunction", {})
    assert result.error["errorMessage"].endswith("Runtime exited with error: signal: killed")
    lines = cloud.log_lines("HungryFunction")
    assert "Runtime.OutOfMemory" in lines
    report = next(line for line in lines if line.startswith(f"REPORT RequestId: {result.request_id}"))
    assert "Memory Size: 128 MB\tMax Memory Used: 128 MB" in report
    assert report.endswith("Status: error\tError Type: Runtime.OutOfMemory")
    # AND the next invocation gets a fresh (cold) process
    assert cloud.invoke("ExitFunction", {}).cold_start
