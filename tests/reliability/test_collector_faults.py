"""The collector dies or hangs in the middle of a batch: the batch comes back, and every span is stored once.

On AWS a log subscription invokes the collector asynchronously, so a failed invocation (crash, timeout)
is retried with the same event. The local cloud does the same (`asyncinvoke.AsyncInvoker`). Each
collector here is the real handler behind a test-only wrapper (`apps/faulty_collector/faulty.py`)
that sabotages only the first delivery carrying spans, after part of that batch reached the store:

- a crash between two committed writes (half the batch is stored, then the process exits);
- a crash inside the store's write transaction, before COMMIT;
- a hang past the collector's timeout after half the batch is stored (the local cloud kills it).

The same path carries store failures: a store locked past the collector's `busy_timeout` makes the
invocation fail and the retry store the batch; a store that stays down makes every attempt fail, and
after the retries the batch waits in the collector's dead-letter queue (nothing is dropped silently),
from which replaying it stores every span.

What the functions logged is then compared, span by span, with what the store holds.
"""

from __future__ import annotations

import base64
import gzip
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from hoptrace import wire
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store
from hoptrace_localcloud.cloud import LocalCloud
from tests.reliability.cloudapps import (
    APPS,
    collector_function,
    log_group,
    logged_spans,
    stored_span_keys,
    traced_function,
    wait_for,
    write_app,
)

pytestmark = pytest.mark.e2e

APP = """
from opentelemetry import trace

tracer = trace.get_tracer("reliability")

def handler(event, context):
    with tracer.start_as_current_span("validate"):
        with tracer.start_as_current_span("price"):
            pass
    return {"n": event["n"]}
"""
FAULTS = {"exit_after_partial": "ExitAfterPartial", "exit_in_transaction": "ExitInTransaction",
          "timeout_after_partial": "TimeoutAfterPartial"}
INVOCATIONS = 24


@dataclass(frozen=True)
class Pair:
    """One traced function and the sabotaged collector that stores its spans in a store of its own."""

    app: str
    collector: str
    db: Path
    marker: Path
    deliveries: Path


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, dict[str, Pair], Path]]:
    root = tmp_path_factory.mktemp("collector-faults")
    resources, pairs = {}, {}
    for fault, name in FAULTS.items():
        pair = Pair(f"App{name}", f"Collector{name}", root / f"{fault}.db", root / f"{fault}.marker",
                    root / f"{fault}.deliveries")
        function = f"app-{fault.replace('_', '-')}"
        resources[pair.app] = traced_function(function, "app/", "app.handler")
        resources[f"{pair.app}Logs"] = log_group(function)
        resources[pair.collector] = collector_function(
            f"collector-{fault.replace('_', '-')}", f"sqlite:///{pair.db}", [f"{pair.app}Logs"],
            code_uri=APPS / "faulty_collector", handler="faulty.handler", Timeout=2,
            env={"HOPTRACE_TEST_FAULT": fault, "HOPTRACE_TEST_MARKER": str(pair.marker),
                 "HOPTRACE_TEST_DELIVERIES": str(pair.deliveries)})
        pairs[fault] = pair
    for name, url in (("Locked", f"sqlite:///{root / 'locked.db'}?busy_timeout_ms=200"),
                      ("Down", "sqlite:////proc/hoptrace-no-such-dir/spans.db")):
        function = f"app-store-{name.lower()}"
        resources[f"App{name}"] = traced_function(function, "app/", "app.handler")
        resources[f"App{name}Logs"] = log_group(function)
        resources[f"Collector{name}"] = collector_function(f"collector-store-{name.lower()}", url, [f"App{name}Logs"])
    resources["CollectorDownDLQ"] = {"Type": "AWS::SQS::Queue"}
    resources["CollectorDown"]["Properties"]["DeadLetterQueue"] = {
        "Type": "SQS", "TargetArn": {"Fn::GetAtt": ["CollectorDownDLQ", "Arn"]}}
    open_store(f"sqlite:///{root / 'locked.db'}").close()
    template = write_app(root, resources, {"app/app.py": APP})
    with LocalCloud(template, log_batch_interval=0.5, async_retry_delays=(0.3, 0.6), idle_timeout=120) as running:
        yield running, pairs, root


@pytest.mark.parametrize("fault", list(FAULTS))
def test_sabotaged_batch_is_redelivered_and_every_span_stored_once(
        cloud: tuple[LocalCloud, dict[str, Pair], Path], fault: str) -> None:
    running, pairs, _ = cloud
    pair = pairs[fault]
    # GIVEN a traced function invoked from four clients at once (so several workers log several streams)
    request_ids, logged_keys = _invoke(running, pair.app)

    # WHEN the collector's first delivery with spans is sabotaged (THEN the store still ends up complete)
    def complete() -> bool:
        return pair.db.exists() and set(stored_span_keys(pair.db)) == logged_keys and _invocations(pair.db) == len(
            request_ids)
    waited = wait_for(complete, 45, f"{fault}: every logged span and invocation stored")
    print(f"\n{fault}: {len(logged_keys)} spans complete in the store {waited:.1f} s after the last invocation")

    # THEN the fault really happened: the collector invocation died as the platform reports it …
    collector_log = "\n".join(running.log_lines(pair.collector))
    died = "Task timed out after 2.00 seconds" if fault.startswith("timeout") else "Runtime exited with error"
    assert died in collector_log
    if fault.endswith("partial"):  # … after half of its batch had been committed
        partial = next(line for line in collector_log.splitlines() if "stored part of the batch" in line)
        assert json.loads(partial.split(":", 1)[1])["spans_written"] > 0
    # … and the very batch it was handling came back: its digest was delivered more than once
    sabotaged = pair.marker.read_text().strip()
    assert Counter(pair.deliveries.read_text().split())[sabotaged] >= 2
    # AND every span is stored exactly once, with trace summaries that did not count the redelivery twice
    keys = stored_span_keys(pair.db)
    assert len(keys) == len(set(keys)) == len(logged_keys)
    with sqlite3.connect(pair.db) as conn:
        counted = dict(conn.execute("SELECT trace_id, span_count FROM traces"))
        actual = dict(conn.execute("SELECT trace_id, COUNT(*) FROM spans GROUP BY trace_id"))
        stored_requests = {r for (r,) in conn.execute("SELECT request_id FROM invocations")}
    assert counted == actual
    assert stored_requests == request_ids


def test_store_locked_past_busy_timeout_fails_the_batch_and_the_retry_stores_it(
        cloud: tuple[LocalCloud, dict[str, Pair], Path]) -> None:
    running, _, root = cloud
    db = root / "locked.db"
    # GIVEN a collector that has its store open (a first request stored) …
    _, warm_keys = _invoke(running, "AppLocked", 1)
    wait_for(lambda: set(stored_span_keys(db)) == warm_keys, 30, "the first request stored")
    # … and another process holding the store's write lock, longer than the collector's 200 ms busy_timeout
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        request_ids, logged_keys = _invoke(running, "AppLocked")
        # WHEN the collector tries to write THEN the invocation fails with a line that says why
        running.wait_for_log("CollectorLocked", "database is locked", timeout=30)
        assert set(stored_span_keys(db)) == warm_keys  # nothing half-written
    finally:
        holder.execute("COMMIT")  # the lock goes away before the async retry comes
        holder.close()
    # AND the retried batches store everything, once
    wait_for(lambda: set(stored_span_keys(db)) == logged_keys and _invocations(db) == len(request_ids) + 1, 30,
             "the retried batches stored every span")
    assert len(stored_span_keys(db)) == len(logged_keys)
    failures = [line for line in running.log_lines("CollectorLocked") if "database is locked" in line]
    # the warm collector's failed write logs its structured line with the reason, then the runtime the
    # StoreError it raised (a new instance already fails opening the store: the same runtime line)
    assert any('"event":"store_write_failed"' in line for line in failures), failures
    assert all('"event":"store_write_failed"' in line or "[ERROR] StoreError: " in line for line in failures)


def test_store_down_for_good_sends_the_batch_to_the_collector_dlq_and_a_replay_stores_it(
        cloud: tuple[LocalCloud, dict[str, Pair], Path]) -> None:
    running, _, root = cloud
    # GIVEN a collector whose store cannot be opened at all (a path that can never be created)
    _, logged_keys = _invoke(running, "AppDown")
    # WHEN every attempt fails THEN after the retries each batch lands in the collector's DLQ, with the reason
    sqs, queue = running.client("sqs"), running.resource("CollectorDownDLQ").url
    messages: list[dict] = []

    def drained() -> bool:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                  WaitTimeSeconds=0).get("Messages", [])
        for message in got:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(got)
        return _spans_in(messages) >= len(logged_keys)
    wait_for(drained, 45, "every failed batch reached the collector's dead-letter queue")
    reasons = {m["MessageAttributes"]["ErrorMessage"]["StringValue"] for m in messages}
    assert all("cannot open the sqlite store" in reason for reason in reasons), reasons
    attempts = "\n".join(running.log_lines("CollectorDown")).count("cannot open the sqlite store")
    assert attempts >= 3 * len(messages)  # first try + two retries per batch, each logged
    # AND replaying the dead letters into a working store loses nothing
    replay = open_store(f"sqlite:///{root / 'replayed.db'}")
    try:
        ingestor = Ingestor(replay)
        for message in messages:
            ingestor.ingest(json.loads(message["Body"]))
    finally:
        replay.close()
    assert set(stored_span_keys(root / "replayed.db")) == logged_keys


def _invoke(running: LocalCloud, app: str, count: int = INVOCATIONS) -> tuple[set[str], set[tuple[str, str]]]:
    """Invoke `app` from four clients at once; its request ids and the (trace, span) keys it logged so far."""
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: running.invoke(app, {"n": n}), range(count)))
    assert not any(r.error for r in results)
    logged = logged_spans(running, app)
    logged_keys = {(s["trace_id"], s["span_id"]) for s in logged}
    assert len(logged_keys) == len(logged) >= 3 * count  # invocation + 2 children (+ init when cold)
    return {r.request_id for r in results}, logged_keys


def _spans_in(messages: list[dict]) -> int:
    """Span count of the subscription payloads in these DLQ messages."""
    total = 0
    for message in messages:
        document = json.loads(gzip.decompress(base64.b64decode(json.loads(message["Body"])["awslogs"]["data"])))
        for event in document["logEvents"]:
            if wire.is_span_line(event["message"]):
                total += len(wire.decode(event["message"].rstrip("\n"))[1])
    return total


def _invocations(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM invocations").fetchone()[0])
