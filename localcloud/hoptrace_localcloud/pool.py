"""A function's execution environments: warm reuse, scale-out on demand, idle reaping, and the platform
lines (START/END/REPORT, Task timed out) Lambda writes around each invocation."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .functions import FunctionSpec
from .logstore import LogStore
from .platformlog import PlatformLog
from .workers import InitError, Outcome, Worker, lambda_environment, log_stream_name

_INIT_TIMEOUT = 10.0  # Lambda's init phase limit


@dataclass
class Invocation:
    """The result of one invocation, as Invoke would report it plus what the platform measured."""

    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    cold_start: bool = False
    duration_ms: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


class NotStarted(Exception):
    """Every worker stayed busy until the caller's deadline: the invocation was never started."""


def new_trace_header() -> str:
    """What Lambda puts in _X_AMZN_TRACE_ID when active tracing is off."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


def _error_type(outcome: Outcome) -> str:
    return "Runtime.OutOfMemory" if outcome.out_of_memory else "Runtime.ExitError"


def _status(outcome: Outcome, error: dict[str, Any] | None) -> tuple[str, str | None]:
    """The platform's status of an invocation (success, error, timeout, failure) and its error type."""
    if outcome.timed_out:
        return "timeout", None
    if outcome.crashed:
        return "failure", _error_type(outcome)
    if error is not None:
        return "error", str(error.get("errorType") or "Unhandled")
    return "success", None


def _exit_reason(worker: Worker) -> str:
    code = worker.process.poll()
    if code is not None and code < 0:
        return "signal: killed" if code == -9 else f"signal: {abs(code)}"
    return f"exit status {code}"


class FunctionPool:
    """Hands invocations to idle workers, starts new ones up to the concurrency cap, waits beyond it."""

    def __init__(self, spec: FunctionSpec, logs: LogStore, endpoint_url: str, region: str,
                 credentials: dict[str, str], max_concurrency: int, enforce_memory: bool = True) -> None:
        self.spec = spec
        self._enforce_memory = enforce_memory
        self._logs = logs
        self._env_args = (endpoint_url, region, credentials)
        self._cap = spec.reserved_concurrency or max_concurrency
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0
        self._changed = threading.Condition()
        self._closed = False
        self.cold_starts = 0
        self.not_started = 0  # invocations whose caller's deadline passed before a worker was free
        self._platform = PlatformLog(spec.log_settings)

    @property
    def concurrency_cap(self) -> int:
        """How many invocations may run at once (reserved concurrency, else the local cloud's cap)."""
        return self._cap

    def _log(self, worker: Worker, line: str | None) -> None:
        if line is not None:
            self._logs.append(self.spec.log_group, worker.stream, line)

    def _acquire(self, deadline: float | None = None) -> Worker | None:
        """A warm worker, or None when the caller may start a new one (a cold start).

        Raises NotStarted when `deadline` (time.monotonic()) passes with every worker busy."""
        with self._changed:
            while True:
                if self._closed:
                    raise RuntimeError(f"function {self.spec.name} is stopped")
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if len(self._busy) + self._starting < self._cap:
                    self._starting += 1
                    self.cold_starts += 1
                    return None
                if deadline is None:
                    self._changed.wait()
                elif not self._changed.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    self.not_started += 1
                    raise NotStarted(self.spec.name)

    def _release(self, worker: Worker | None, reuse: bool) -> None:
        with self._changed:
            if worker is not None:
                self._busy.discard(worker)
            if worker is not None and reuse and worker.alive and not self._closed:
                self._idle.append(worker)
            elif worker is not None:
                worker.kill()
            self._changed.notify()

    def _start_worker(self) -> tuple[Worker, float]:
        stream = log_stream_name()
        env = lambda_environment(self.spec, stream, *self._env_args)
        started = time.perf_counter()
        worker: Worker | None = None
        try:
            worker = Worker(self.spec, env, stream, self._log)
            self._log(worker, self._platform.init_start())
            worker.wait_ready(_INIT_TIMEOUT)
        except OSError as exc:
            raise InitError({"errorType": "Runtime.InvalidEntrypoint",
                             "errorMessage": f"cannot start the runtime: {exc}"}) from exc
        finally:
            with self._changed:
                self._starting -= 1
                if worker is not None and worker.alive:
                    self._busy.add(worker)
                self._changed.notify()
        return worker, (time.perf_counter() - started) * 1000

    def invoke(self, event: Any, client_context: dict[str, Any] | None = None,
               trace_header: str | None = None, start_within: float | None = None) -> Invocation:
        """Run one invocation synchronously, the way Invoke(RequestResponse) would.

        Beyond the pool's cap an invocation waits for a worker, standing in for the sandboxes Lambda would
        add; `start_within` bounds that wait for a caller that gives up (API Gateway's integration timeout),
        so requests nobody waits for any more do not keep the pool full: past it, NotStarted is raised and
        the function never runs."""
        request_id = str(uuid.uuid4())
        worker = self._acquire(None if start_within is None else time.monotonic() + start_within)
        init_ms = None
        if worker is None:
            try:
                worker, init_ms = self._start_worker()
            except InitError as exc:
                self._logs.append(self.spec.log_group, "init", f"INIT_REPORT Init Duration: 0 ms\tPhase: init\t"
                                  f"Status: error\tError Type: {exc.error.get('errorType')}")
                return Invocation(request_id, error=exc.error, cold_start=True)
        timeout = self.spec.timeout
        self._log(worker, self._platform.start(request_id))
        started = time.perf_counter()
        request = {
            "id": request_id, "event": event, "arn": self.spec.arn, "client_context": client_context,
            "trace_id": trace_header or new_trace_header(),
            "deadline_ms": int(time.time() * 1000 + timeout * 1000),
        }
        outcome = worker.invoke(request, timeout, self.spec.memory_mb if self._enforce_memory else None)
        duration_ms = (time.perf_counter() - started) * 1000
        error = self._error_of(outcome, worker, request_id)
        if outcome.timed_out:
            duration_ms = self.spec.timeout * 1000
        status, error_type = _status(outcome, error)
        self._log(worker, self._platform.end(request_id, status, duration_ms, error_type))
        self._log(worker, self._platform.report(request_id, status, duration_ms,
                                                self.spec.memory_mb, outcome.max_memory_mb, init_ms, error_type))
        self._release(worker, reuse=not (outcome.timed_out or outcome.crashed))
        return Invocation(request_id, outcome.payload, error, cold_start=init_ms is not None, duration_ms=duration_ms)

    def _error_of(self, outcome: Outcome, worker: Worker, request_id: str) -> dict[str, Any] | None:
        if outcome.timed_out:
            message = f"Task timed out after {self.spec.timeout:.2f} seconds"
            self._log(worker, self._platform.timeout(request_id, self.spec.timeout))
            return {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        if outcome.crashed:
            # What Lambda logs when the runtime process dies mid-invocation (exit, crash, out of memory).
            message = f"RequestId: {request_id} Error: Runtime exited with error: {_exit_reason(worker)}"
            if not self.spec.log_settings.json:  # the JSON format says it in runtimeDone and report
                self._log(worker, message)
                self._log(worker, _error_type(outcome))
            return {"errorType": "Runtime.ExitError", "errorMessage": message}
        return outcome.error

    def reap_idle(self, idle_timeout: float) -> int:
        """Stop workers idle for longer than `idle_timeout` seconds; return how many were stopped."""
        now = time.monotonic()
        with self._changed:
            stale = [w for w in self._idle if now - w.last_used > idle_timeout]
            self._idle = [w for w in self._idle if w not in stale]
        for worker in stale:
            worker.kill()
        return len(stale)

    @property
    def worker_count(self) -> int:
        with self._changed:
            return len(self._idle) + len(self._busy)

    def worker_pids(self) -> list[int]:
        with self._changed:
            return [w.process.pid for w in [*self._idle, *self._busy]]

    def stop(self) -> None:
        with self._changed:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle, self._busy = [], set()
            self._changed.notify_all()
        for worker in workers:
            worker.kill()
