"""A test-only collector function: the real `hoptrace_collector.handler.handler`, plus one injected fault.

The first delivery that carries span lines is sabotaged as `HOPTRACE_TEST_FAULT` says, after part of
the batch has reached the store; every other delivery goes straight to the real handler. Whether
that first delivery already happened is a marker file, because the fault kills the process that
would otherwise remember it. Every delivery's digest is appended to a file so the test can show the
very same batch came back.

    exit_after_partial    store the first half of the batch, then os._exit (a crash between writes)
    exit_in_transaction   crash inside the store's write transaction, before COMMIT
    timeout_after_partial store the first half, then sleep past the function's timeout
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import time
from typing import Any

from hoptrace_collector import handler as collector


def handler(event: Any, context: Any) -> Any:
    data = event["awslogs"]["data"]
    digest = hashlib.sha256(data.encode()).hexdigest()
    with open(os.environ["HOPTRACE_TEST_DELIVERIES"], "a") as log:
        log.write(digest + "\n")
    document = json.loads(gzip.decompress(base64.b64decode(data)))
    carries_spans = any(e["message"].startswith("HOPTRACE ") for e in document.get("logEvents", []))
    if carries_spans and _first_time(digest):
        _sabotage(event, document, os.environ["HOPTRACE_TEST_FAULT"])
    return collector.handler(event, context)


def _first_time(digest: str) -> bool:
    """True once: the marker file is created atomically and names the sabotaged batch."""
    try:
        marker = os.open(os.environ["HOPTRACE_TEST_MARKER"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(marker, digest.encode())
    os.close(marker)
    return True


def _half(document: dict[str, Any]) -> dict[str, Any]:
    events = document["logEvents"]
    part = {**document, "logEvents": events[: max(1, len(events) // 2)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(part).encode())).decode()}}


def _sabotage(event: Any, document: dict[str, Any], fault: str) -> None:
    if fault == "exit_in_transaction":
        store = collector.ingestor().store
        apply = store._apply_deltas  # runs inside BEGIN IMMEDIATE, after the span rows were written

        def crash(*args: Any) -> None:
            apply(*args)
            os._exit(7)

        store._apply_deltas = crash  # type: ignore[method-assign]
        collector.handler(event, None)
    summary = collector.handler(_half(document), None)
    print("hoptrace-collector-test stored part of the batch:", json.dumps(summary), flush=True)
    if fault == "exit_after_partial":
        os._exit(7)
    if fault == "timeout_after_partial":
        time.sleep(600)
    raise AssertionError(f"unknown HOPTRACE_TEST_FAULT {fault!r}")
