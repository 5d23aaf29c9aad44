"""A synchronous invocation waiting beyond the pool's cap gives up at its caller's deadline, unstarted.

The local cloud runs at most a few workers per function and queues invocations beyond them, standing in
for the sandboxes Lambda would add. An API request whose client has gone (API Gateway's integration timeout
passed) must not run later and keep the pool full: on an overloaded machine that stalled the demo's API for
minutes (docs/development.md). Real worker processes; no local cloud needed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hoptrace_localcloud.functions import FunctionSpec
from hoptrace_localcloud.logstore import LogStore
from hoptrace_localcloud.pool import FunctionPool, NotStarted

pytestmark = pytest.mark.e2e

CODE = """
import time
def handler(event, context):
    print("ran", event["n"])
    time.sleep(event.get("sleep", 0))
    return event["n"]
"""


def test_an_invocation_not_started_by_its_deadline_never_runs_and_the_pool_recovers(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CODE)
    spec = FunctionSpec(logical_id="Slow", name="slow", arn="arn:aws:lambda:us-east-1:123456789012:function:slow",
                        code_dir=tmp_path, handler="app.handler", timeout=60, memory_mb=128, environment={},
                        layers=[], exec_wrapper=None, reserved_concurrency=1)
    logs = LogStore()
    pool = FunctionPool(spec, logs, "http://127.0.0.1:1", "us-east-1", {}, max_concurrency=1)
    release = threading.Event()
    try:
        # GIVEN the pool's one worker busy until we let it go
        pool.invoke({"n": 0})  # warm, so the busy invocation below starts at once
        busy = threading.Thread(target=lambda: pool.invoke({"n": 1, "sleep": 3}))
        busy.start()
        while not any("ran 1" in e.message for e in logs.events(spec.log_group)):
            release.wait(0.05)
        # WHEN a second invocation may wait at most 0.5 s to start
        with pytest.raises(NotStarted):
            pool.invoke({"n": 2}, start_within=0.5)
        busy.join(60)
        # THEN it never ran, was counted, and the pool serves the next invocation as before
        assert pool.invoke({"n": 3}, start_within=30).payload == 3
        ran = [e.message.strip() for e in logs.events(spec.log_group) if e.message.startswith("ran")]
        assert ran == ["ran 0", "ran 1", "ran 3"] and pool.not_started == 1
        # AND an invocation without a deadline still waits as long as it takes
        assert pool.invoke({"n": 4}).payload == 4
    finally:
        pool.stop()
