"""The timeout watchdog, in real processes: a function killed at its timeout still leaves its spans."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hoptrace.engine import ENGINES
from tests.layer.spans import decode_output

pytestmark = pytest.mark.parametrize("engine_name", ENGINES)

RUNTIME = r"""
import sys, time, types
from hoptrace import trace
context = types.SimpleNamespace(aws_request_id="req-1", function_name="slow", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:1:function:slow",
                                get_remaining_time_in_millis=lambda: int((deadline - time.monotonic()) * 1000))
MODE = sys.argv[3]
if MODE == "waiting":
    from opentelemetry import trace as otel
if MODE == "own-alarm":
    import signal
    signal.signal(signal.SIGALRM, lambda *_: print("USER ALARM", flush=True))

@trace
def handler(event, context):
    print("working", flush=True)
    if MODE == "own-alarm":
        signal.setitimer(signal.ITIMER_REAL, 0.1)
    if MODE == "waiting":  # the work the timeout interrupts is a span of its own (an SDK call, a request)
        with otel.get_tracer("shop").start_as_current_span("charge the card"):
            time.sleep(float(sys.argv[2]))
    time.sleep(float(sys.argv[2]))
    return {"done": True}

deadline = time.monotonic() + float(sys.argv[1])  # the clock starts with the invocation, as on Lambda
print("RESULT", handler({"order": 1}, context), flush=True)
"""


def start(engine_name: str, timeout_s: float, work_s: float, mode: str = "plain") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOPTRACE_")}
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "slow", "HOPTRACE_TIMEOUT_MARGIN_MS": "200",
                "HOPTRACE_ENGINE": engine_name})
    return subprocess.Popen([sys.executable, "-c", RUNTIME, str(timeout_s), str(work_s), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=Path(__file__).parent)


def test_a_function_killed_at_its_timeout_leaves_a_pending_failed_span(engine_name: str) -> None:
    # GIVEN a function with 0.5 s left that works for 10 s
    process = start(engine_name, 0.5, 10)
    # WHEN Lambda kills it at the deadline (imports under load may take a while: wait for the work to start)
    assert process.stdout is not None and process.stdout.readline().strip() == "working"
    # (the kill comes once the watchdog has written, however long that takes on a busy machine)
    written = next((line for line in iter(process.stdout.readline, "") if line.startswith(("HOPTRACE", "RESULT"))),
                   "")
    process.kill()
    rest, _ = process.communicate(timeout=10)
    out = written + rest
    # THEN its invocation span was written before the kill, ended, failed and marked pending
    spans, _ = decode_output(out)
    invocation = next(s for s in spans if "faas.coldstart" in s["attributes"])
    assert invocation["attributes"]["hoptrace.pending"] is True
    assert invocation["status"]["code"] == "error" and "timeout" in invocation["status"]["message"]
    assert 0.1e9 < invocation["end"] - invocation["start"] < 0.5e9
    assert "RESULT" not in out


def test_the_span_a_timeout_interrupted_is_written_pending_under_its_invocation(engine_name: str) -> None:
    # GIVEN a function with 0.5 s left that waits 10 s inside a span of its own
    process = start(engine_name, 0.5, 10, "waiting")
    assert process.stdout is not None and process.stdout.readline().strip() == "working"
    written = next((line for line in iter(process.stdout.readline, "") if line.startswith(("HOPTRACE", "RESULT"))),
                   "")
    process.kill()
    rest, _ = process.communicate(timeout=10)
    spans, _ = decode_output(written + rest)
    # THEN the span it was waiting in was written too: pending, failed, a child of the pending invocation
    invocation = next(s for s in spans if "faas.coldstart" in s["attributes"])
    waiting = [s for s in spans if s["name"] == "charge the card"]
    assert len(waiting) == 1 and waiting[0]["parent_id"] == invocation["span_id"]
    assert waiting[0]["attributes"]["hoptrace.pending"] is True and waiting[0]["status"]["code"] == "error"
    assert len({s["span_id"] for s in spans}) == len(spans)  # the invocation once, though it is open too


def test_a_function_finishing_in_the_margin_writes_its_final_span_after_the_pending_one(engine_name: str) -> None:
    # GIVEN a function that finishes after the alarm but before its deadline
    out, err = start(engine_name, 0.6, 0.5).communicate(timeout=30)
    spans, _ = decode_output(out)
    versions = [s for s in spans if "faas.coldstart" in s["attributes"]]
    # THEN the same span was written twice: pending first, then final and not pending
    assert len(versions) == 2 and versions[0]["span_id"] == versions[1]["span_id"]
    assert versions[0]["attributes"]["hoptrace.pending"] is True
    assert "hoptrace.pending" not in versions[1]["attributes"] and versions[1]["status"]["code"] == "unset"
    # AND the handler's result is untouched
    assert "RESULT {'done': True}" in out and "Traceback" not in err


def test_a_function_with_its_own_alarm_keeps_it(engine_name: str) -> None:
    out, _ = start(engine_name, 0.5, 0.4, "own-alarm").communicate(timeout=30)
    spans, _ = decode_output(out)
    assert "USER ALARM" in out and "RESULT {'done': True}" in out
    assert not any(s["attributes"].get("hoptrace.pending") for s in spans)


def test_a_fast_function_never_writes_a_pending_span(engine_name: str) -> None:
    out, _ = start(engine_name, 3.0, 0.0).communicate(timeout=30)
    spans, _ = decode_output(out)
    assert spans and not any(s["attributes"].get("hoptrace.pending") for s in spans)
