"""Timeout watchdog: an invocation Lambda kills at its timeout still leaves its spans in the log.

A killed function never returns, so the wrapper never writes its line. Shortly before the
deadline (`HOPTRACE_TIMEOUT_MARGIN_MS`, default 200) a SIGALRM handler writes what is known
so far: the spans already ended plus every span still open — the invocation, its records and
what they were waiting on (the SDK call or HTTP request the timeout interrupted, whose
downstream side may well be stored) — ended now, marked `hoptrace.pending` and as errors.
If the function finishes after all, its normal line follows with the same span ids and the
collector keeps that final version; the collector also turns the platform's `Task timed out`
line into the failure's message.

One real-time timer, no thread: arming and disarming cost a syscall each. The watchdog stays
off where it could disturb the function: off the main thread, when SIGALRM already has a
handler that is not ours (the function uses `signal.alarm` itself), or with a margin of 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any

from hoptrace import health, output, semconv

try:  # the C function: `signal.getsignal` wraps its answer in an enum, a tenth of a no-op invocation's cost
    from _signal import getsignal as _getsignal
except ImportError:  # pragma: no cover - CPython always has it
    _getsignal = signal.getsignal
_MAIN_THREAD = threading.main_thread().ident
_pending: tuple[Any, Any, dict[str, Any], output.OutputLimits] | None = None  # engine, invocation, resource, limits


def arm(engine: Any, active: Any, resource: dict[str, Any], lambda_context: Any, margin_ms: float,
        limits: output.OutputLimits = output.DEFAULT_LIMITS) -> None:
    global _pending
    if margin_ms <= 0 or threading.get_ident() != _MAIN_THREAD:
        return
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return
    delay_s = (remaining() - margin_ms) / 1000
    if delay_s <= 0:
        return
    current = _getsignal(signal.SIGALRM)
    if current is not _on_alarm:
        if current not in (signal.SIG_DFL, None):
            return  # the function's own alarm: never take it over
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.siginterrupt(signal.SIGALRM, False)  # SA_RESTART: C code in a blocking call never sees EINTR
    _pending = (engine, active, resource, limits)
    signal.setitimer(signal.ITIMER_REAL, delay_s)


def disarm() -> None:
    global _pending
    if _pending is not None:
        _pending = None
        signal.setitimer(signal.ITIMER_REAL, 0)


def _on_alarm(signum: int, frame: Any) -> None:
    global _pending
    state, _pending = _pending, None
    if state is None:
        return
    try:
        engine, active, resource, limits = state
        now = time.time_ns()
        still_open = (*active.records.values(), active.span, *engine.in_flight())  # before drain() forgets them
        spans = engine.drain()
        seen = set()
        for span in still_open:
            if not span.sampled:
                continue
            snapshot = engine.snapshot(span)
            if snapshot["span_id"] in seen:
                continue
            seen.add(snapshot["span_id"])
            snapshot["end"] = max(now, snapshot["start"])
            snapshot["status"] = {"code": "error", "message": "still running shortly before the function's timeout"}
            snapshot["attributes"][semconv.PENDING] = True
            spans.append(snapshot)
        _write(output.lines(spans, resource, health.drain() or None, limits))
    except Exception as error:
        health.swallow("watchdog", error)


def _write(lines: list[str]) -> None:
    """Straight to the file descriptor: the alarm may interrupt a print() of the function's own."""
    lead = ""
    try:
        sys.stdout.flush()
    except Exception:  # reentrant call while the interrupted code was writing: start on a fresh line
        lead = "\n"
    os.write(sys.stdout.fileno(), (lead + "\n".join(lines) + "\n").encode())
