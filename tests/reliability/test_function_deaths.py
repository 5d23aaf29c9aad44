"""A traced function killed at its timeout, out of memory, or exiting its process still shows up as a failure.

No tracer inside a process that is killed can report its own death. The local cloud dies the way
Lambda does and logs Lambda's platform lines (`Task timed out`, `Runtime exited with error`,
`Runtime.ExitError`, `Runtime.OutOfMemory`, REPORT with `Status: error`); the layer's watchdog
writes the open spans shortly before a timeout; the real collector, subscribed to the functions'
log groups, turns the platform lines into a failed span. Every function here is invoked with the
caller's `traceparent` (ClientContext.custom, as a direct SDK Invoke carries it).

Where the layer got to write (timeout: the watchdog's pending span; `sys.exit`: the wrapper records
SystemExit before re-raising it) the failure takes that span's place in the caller's trace. Where the
process vanished without a word (SIGKILL for memory, `os._exit`), the failure gets a trace of its own
found by the request id: the layer never saw the end of the invocation, and the platform lines do
not carry the caller's context (README, Ingest: "Otherwise it uses the REPORT's X-Ray trace id, or
else a trace whose ids are derived from the request id").
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hoptrace_collector.store import TraceFilter, open_store
from hoptrace_localcloud.cloud import LocalCloud
from tests.localcloud.test_e2e_deaths import APP as DYING
from tests.reliability.cloudapps import collector_function, log_group, wait_for, write_app

pytestmark = pytest.mark.e2e

# The local cloud's own dying handlers (exits, hungry), and two more: a hang and a polite exit.
APP = DYING + """
import sys

def sleepy(event, context):
    time.sleep(30)

def quits(event, context):
    sys.exit(2)
"""
# The timeout watchdog's margin for Sleepy: its pending span must be written between the alarm and the kill. The
# layer's default (200 ms) is for Lambda's own sandbox; at load 50 on two cores a process waits longer than that for
# the CPU, the kill came first, and the failure got a trace of its own (the watchdog never wrote).
MARGIN_MS = 2000
# logical id -> (user handler, extra properties, outcome, what the failed span says, joins the caller's trace)
DEATHS: dict[str, tuple[str, dict[str, Any], str, str, bool]] = {
    "Sleepy": ("app.sleepy", {"Timeout": 3, "Environment": {"Variables": {
        "HOPTRACE_TIMEOUT_MARGIN_MS": str(MARGIN_MS)}}}, "timeout", "Task timed out after 3.00 seconds", True),
    "Hungry": ("app.hungry", {"MemorySize": 128}, "oom", "Runtime.OutOfMemory", False),
    "Exits": ("app.exits", {}, "crash", "Runtime exited with error: exit status 3", False),
    "Quits": ("app.quits", {}, "crash", "Runtime exited with error: exit status 2", True),
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, str]]:
    root = tmp_path_factory.mktemp("deaths")
    store_url = f"sqlite:///{root / 'spans.db'}"
    resources: dict[str, Any] = {}
    for name, (user_handler, properties, *_) in DEATHS.items():
        function = f"dies-{name.lower()}"
        # attached with the exec wrapper, as the demo does: the handler setting stays the user's own
        variables = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/hoptrace-exec-wrapper",
                     **properties.get("Environment", {}).get("Variables", {})}
        resources[name] = {"Type": "AWS::Serverless::Function", "Properties": {
            "FunctionName": function, "CodeUri": "app/", "Handler": user_handler, "Layers": [{"Ref": "HoptraceLayer"}],
            **properties, "Environment": {"Variables": variables}}}
        resources[f"{name}Logs"] = log_group(function)
    resources["Collector"] = collector_function("collector", store_url, [f"{name}Logs" for name in DEATHS])
    template = write_app(root, resources, {"app/app.py": APP})
    with LocalCloud(template, log_batch_interval=0.3, async_retry_delays=(0.3,), idle_timeout=120) as running:
        yield running, store_url


@pytest.mark.parametrize("name", list(DEATHS))
def test_a_dead_invocation_is_a_failed_span_in_the_store(cloud: tuple[LocalCloud, str], name: str) -> None:
    running, store_url = cloud
    _, _, outcome, message, joins_caller = DEATHS[name]
    trace_id, parent_id = f"{int(time.time()):08x}{random.getrandbits(96):024x}", f"{random.getrandbits(64):016x}"
    # GIVEN a caller's trace context / WHEN the traced function dies during the invocation
    result = running.invoke(name, {"order": 7}, client_context={"custom": {
        "traceparent": f"00-{trace_id}-{parent_id}-01"}})
    assert result.error, f"{name} was expected to die"
    # THEN the platform's verdict is stored for that request …
    db = Path(store_url.removeprefix("sqlite:///"))
    wait_for(lambda: _outcome(db, result.request_id) == outcome, 30, f"{name}: {outcome} stored")
    store = open_store(store_url)
    try:
        [summary] = store.list_traces(TraceFilter(request_id=result.request_id))
        trace = store.get_trace(summary.trace_id)
    finally:
        store.close()
    # … as a failed span, made from the platform lines, with nothing left pending
    [failed] = [s for s in trace if s.request_id == result.request_id and s.source == "platform"]
    assert failed.status == "error" and message in (failed.status_message or "")
    assert not any(s.pending for s in trace)
    if joins_caller:  # AND where the layer had written, the failure sits in the caller's trace, under its call
        assert (failed.trace_id, failed.parent_id) == (trace_id, parent_id), running.log_lines(name)
    print(f"\n{name}: {outcome}: {failed.name!r} [{failed.status_message}] in trace {failed.trace_id} "
          f"({len(trace)} spans{', the caller' + chr(39) + 's' if joins_caller else ', its own'})")


def _outcome(db: Path, request_id: str) -> str | None:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute("SELECT outcome FROM invocations WHERE request_id = ?", (request_id,)).fetchone()
    return row[0] if row else None
