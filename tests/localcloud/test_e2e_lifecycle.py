"""Start/stop of a whole local cloud: warnings for what is not emulated, the Lambda environment seen by a
handler, no orphan processes — through the Python API and through `hoptrace local`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import APPS, FAST, Clouds, http

pytestmark = pytest.mark.e2e
MINIMAL = APPS / "minimal" / "template.yaml"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def cloud(clouds: Clouds) -> LocalCloud:
    """The minimal app, shared by the tests that neither stop it nor count its processes."""
    return clouds.plain(MINIMAL)


def test_unsupported_features_warn_once_and_the_rest_runs(cloud):
    # GIVEN a template with an MSK trigger and a nodejs function next to a python one
    # THEN each unsupported feature is one line naming resource and property
    assert any(w.startswith("HelloFunction.Events.Changes.") and "never fires" in w for w in cloud.warnings)
    assert any(w.startswith("NodeFunction.Runtime:") for w in cloud.warnings)
    assert len(cloud.warnings) == len(set(cloud.warnings)) == 2
    # AND the python function still serves its HTTP API route
    status, _, body = http(f"{cloud.api_url}/hello")
    assert status == 200
    assert json.loads(body)["mode"] == "local"


def test_handler_sees_lambda_environment_and_context(cloud):
    # GIVEN the minimal app running
    # WHEN the function is invoked with a client context
    result = cloud.invoke("HelloFunction", {}, client_context={"custom": {"k": "v"}}).payload
    # THEN it sees local resource names, context values and Lambda's variables
    assert result["table"] == cloud.resource("Table").ref == "local-Table"
    assert result["bucket"] == "arn:aws:s3:::local-bucket"
    assert result["function"] == "local-HelloFunction"
    assert result["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:local-HelloFunction"
    assert result["memory"] == "128"
    assert 0 < result["remaining_ms"] <= 3000
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", result["trace"])
    assert result["init"] == "on-demand"
    assert result["endpoint"] == cloud.endpoint_url
    assert result["region"] == "us-east-1"
    # AND `!GetAtt ServerlessHttpApi.ApiEndpoint` is the local API's URL
    assert cloud.invoke("ClientFunction", {}).payload == {"api_url": cloud.api_url}
    assert result["custom"] == {"k": "v"}


def test_stopping_leaves_no_orphan_processes():
    # GIVEN a running cloud with warm workers
    cloud = LocalCloud(MINIMAL, FAST).start()
    try:
        assert http(f"{cloud.api_url}/hello")[0] == 200
        pids = [*cloud.worker_pids(), cloud.moto_pid]
        assert all(_alive(pid) for pid in pids)
    finally:
        # WHEN it stops
        cloud.stop()
    # THEN moto and every worker are gone
    assert not any(_alive(pid) for pid in pids)


def test_cli_prints_routes_and_stops_everything_on_sigint(tmp_path):
    # GIVEN `hoptrace local` running the minimal template
    command = [sys.executable, "-m", "hoptrace_cli.main", "local", "--template", str(MINIMAL), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(banner)
        api_url = re.search(r"API:\s+(\S+)", text).group(1)
        # WHEN a request arrives, then SIGINT
        assert http(f"{api_url}/hello")[0] == 200
        children = _children(process.pid)
        assert children  # moto + a worker
        # (SIGINT once the live log has shown the request's REPORT line, however long that takes)
        report = next((line for line in iter(process.stdout.readline, "") if "REPORT" in line), "")
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        output = report + output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # THEN it printed the route, the warnings and the live log, exited 0 and left no process behind
    assert "local-HelloFunction: HttpApi GET /hello" in text
    assert "not supported: NodeFunction.Runtime" in text
    assert "REPORT" in output
    assert process.returncode == 0
    assert not any(_alive(pid) for pid in children)


def test_a_burst_of_clients_is_queued_not_reset(cloud):
    # GIVEN 60 clients connecting at once (more than the 10 workers; socketserver's backlog is 5)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(lambda _: http(f"{cloud.api_url}/hello")[0], range(60)))
    # THEN every one is answered, as API Gateway would
    assert statuses == [200] * 60
