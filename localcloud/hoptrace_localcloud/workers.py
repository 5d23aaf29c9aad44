"""One worker process = one Lambda execution environment: a fresh interpreter running runtime_bootstrap.

The parent talks to it over two inherited pipes (JSON lines), separate from the process's stdout/stderr,
which a reader thread turns into log lines.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .functions import PYTHON_TAG, FunctionSpec

BOOTSTRAP = Path(__file__).with_name("runtime_bootstrap.py")
SENTINEL = "\x1e"
_DRAIN_TIMEOUT = 2.0


@dataclass
class Outcome:
    """What one invocation returned: a payload, an error, or a timeout/crash (the worker is then dead)."""

    payload: Any = None
    error: dict[str, Any] | None = None
    timed_out: bool = False
    crashed: bool = False
    out_of_memory: bool = False
    max_memory_mb: int = 0


def resident_mb(pid: int) -> int:
    """VmRSS of a process in MB (0 when it is gone or /proc is not there)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class _MemoryGuard:
    """Polls the worker's resident memory during an invocation and kills it past the function's MemorySize."""

    INTERVAL_S = 0.02

    def __init__(self, worker: Worker, limit_mb: int) -> None:
        self.tripped = False
        self._worker, self._limit = worker, limit_mb
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-guard", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        pid = self._worker.process.pid
        while not self._done.wait(self.INTERVAL_S):
            if resident_mb(pid) > self._limit:
                self.tripped = True
                self._worker.signal_kill()
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join(1.0)


class InitError(RuntimeError):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage", "init failed"))
        self.error = error


def log_stream_name() -> str:
    return time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex


def lambda_environment(spec: FunctionSpec, stream: str, endpoint_url: str, region: str,
                       credentials: dict[str, str]) -> dict[str, str]:
    """The variables Lambda sets, the function's own, then what points boto3 at the local cloud."""
    python_path = [str(spec.code_dir)] + ([str(spec.dependencies)] if spec.dependencies else [])
    for layer in spec.layers:
        python_path += [str(layer.python_dir / "lib" / PYTHON_TAG / "site-packages"), str(layer.python_dir)]
        if layer.dependencies:
            python_path.append(str(layer.dependencies))
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}
    env.update({
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
        "PYTHONPATH": os.pathsep.join(python_path),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{PYTHON_TAG}",
    })
    env.update(spec.environment)
    env.pop("AWS_LAMBDA_EXEC_WRAPPER", None)
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        **({"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": spec.log_settings.application_level}
           if spec.log_settings.json else {}),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": spec.handler,
        "AWS_ENDPOINT_URL": endpoint_url,
        # botocore would prefix the host of some operations (StartSyncExecution: "sync-127.0.0.1").
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        **credentials,
    })
    return env


class Worker:
    """Owns one process; `invoke` is called by one thread at a time (the pool guarantees it)."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], stream: str,
                 on_line: Callable[[Worker, str], None]) -> None:
        self.spec = spec
        self.stream = stream
        self.last_used = time.monotonic()
        self._on_line = on_line
        self._drained = threading.Event()
        self._closing = threading.Lock()
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        env = {**env, "_HOPTRACE_LOCAL_FDS": f"{to_child_r},{from_child_w}"}
        command = [sys.executable, "-u", "-P", str(BOOTSTRAP)]
        if spec.exec_wrapper is not None:
            command = [str(spec.exec_wrapper), *command]
        try:
            self.process = subprocess.Popen(
                command, cwd=spec.code_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(to_child_r, from_child_w), start_new_session=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._results = os.fdopen(self._from_child, "r", encoding="utf-8")
        self._reader = threading.Thread(target=self._read_output, name=f"log-{spec.name}", daemon=True)
        self._reader.start()

    def _read_output(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None, "workers are started with stdout=PIPE"
        for raw in stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(SENTINEL):
                self._drained.set()
            else:
                self._on_line(self, line)
        self._drained.set()

    def wait_ready(self, timeout: float) -> None:
        """Wait for the handler import (the init phase); raise InitError if it failed or took too long."""
        message = self._receive(timeout)
        if message is None:
            self.kill()
            raise InitError({"errorType": "Runtime.InitTimeout",
                             "errorMessage": f"init did not finish within {timeout:.0f} s"})
        if message.get("type") != "ready":
            self._reader.join(_DRAIN_TIMEOUT)
            self.kill()
            raise InitError(message.get("error") or {"errorType": "Runtime.ExitError",
                                                     "errorMessage": "runtime exited during init"})

    def invoke(self, request: dict[str, Any], timeout: float, memory_mb: int | None = None) -> Outcome:
        """Run one request; with `memory_mb`, a process whose resident memory passes it is killed, as Lambda does."""
        self._drained.clear()
        try:
            os.write(self._to_child, (json.dumps(request) + "\n").encode())
        except OSError:
            return Outcome(crashed=True)
        guard = _MemoryGuard(self, memory_mb) if memory_mb else None
        try:
            message = self._receive(timeout)
        finally:
            if guard is not None:
                guard.stop()
        self.last_used = time.monotonic()
        if message is None:
            self.kill()
            return Outcome(timed_out=True)
        if not message:
            self._reader.join(_DRAIN_TIMEOUT)
            self.kill()
            if guard is not None and guard.tripped:
                return Outcome(crashed=True, out_of_memory=True, max_memory_mb=memory_mb or 0)
            return Outcome(crashed=True)
        self._drained.wait(_DRAIN_TIMEOUT)
        return Outcome(payload=message.get("payload"), error=message.get("error"),
                       max_memory_mb=int(message.get("max_memory_mb", 0)))

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        """The next protocol message; None on timeout, {} if the process died."""
        ready, _, _ = select.select([self._results], [], [], max(timeout, 0))
        if not ready:
            return None
        line = self._results.readline()
        return json.loads(line) if line else {}

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def signal_kill(self) -> None:
        """SIGKILL the whole process group (an exec wrapper or the handler may have started children); the
        pipes stay open so whoever waits on them sees the death."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """Stop the process group and release the pipes; idempotent. A timed-out or crashed worker is killed
        by `invoke` and again by the pool: a second `os.close` of the freed descriptor number would close
        whatever the process opened since under that number (a moto socket, another worker's pipe), which
        on a loaded machine, where timeouts are common, broke whole demo runs ("Bad file descriptor")."""
        self.signal_kill()
        self.process.wait()
        with self._closing:
            self._results.close()
            to_child, self._to_child = self._to_child, -1
        if to_child >= 0:
            os.close(to_child)
        self._reader.join(_DRAIN_TIMEOUT)
