"""A worker's pipes are released exactly once: the pool kills a timed-out or crashed worker after `invoke`
already did, and a second close of a freed descriptor number would close whatever the process opened since
under that number (under load, with many timeouts, that broke whole demo runs with "Bad file descriptor")."""

from __future__ import annotations

import os
from pathlib import Path

from hoptrace_localcloud.functions import FunctionSpec
from hoptrace_localcloud.workers import Worker, lambda_environment, log_stream_name


def _worker(code: Path) -> Worker:
    (code / "app.py").write_text("def handler(event, context):\n    return event\n")
    spec = FunctionSpec(logical_id="Echo", name="echo", arn="arn:aws:lambda:us-east-1:123456789012:function:echo",
                        code_dir=code, handler="app.handler", timeout=3, memory_mb=128, environment={},
                        layers=[], exec_wrapper=None, reserved_concurrency=None)
    stream = log_stream_name()
    env = lambda_environment(spec, stream, "http://127.0.0.1:1", "us-east-1", {})
    return Worker(spec, env, stream, lambda worker, line: None)


def test_killing_a_worker_twice_leaves_descriptors_opened_in_between_alone(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    worker.wait_ready(30)
    freed = worker._to_child
    # GIVEN a killed worker, and a file the process opened afterwards under the number its pipe had
    worker.kill()
    opened = []
    while not opened or opened[-1] < freed:
        opened.append(os.open(os.devnull, os.O_RDONLY))
    try:
        assert freed in opened, (freed, opened)
        # WHEN the pool kills it again (a timed-out worker is not reused)
        worker.kill()
        # THEN that file is still open
        for fd in opened:
            os.fstat(fd)
    finally:
        for fd in opened:
            os.close(fd)


def test_a_killed_worker_is_a_crash_not_a_write_to_someone_elses_descriptor(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    worker.wait_ready(30)
    worker.kill()
    assert worker.invoke({"id": "r", "event": {}}, timeout=5).crashed
