"""The store is locked or throttled for a while: writes wait or retry and succeed; if it lasts, the batch fails loudly.

- SQLite: another *process* holds the write lock. SQLite's busy handler (the store's `busy_timeout`,
  10 s by default) retries the lock with growing sleeps, so a lock held for a second only delays the
  batch. A lock held past the timeout fails the whole batch — nothing half-written — with a
  `store_write_failed` line naming the cause, and the handler raises so the source retries
  (`test_collector_faults.py` follows that retry through the local cloud).
- DynamoDB (moto's server): moto never throttles, so `ProvisionedThroughputExceededException` is
  injected with botocore's own event system on the store's client, before the request leaves. The
  store's backoff absorbs a few throttles per call; a table that stays throttled becomes a StoreError,
  and the redelivered batch then stores every span once, with trace summaries that count each span once.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.collector_data import subscription_batches
from hoptrace_collector import handler as collector
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store, StoreError, TraceFilter, open_store
from tests.reliability.cloudapps import stored_span_keys

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.fixture
def batches() -> tuple[list[dict[str, Any]], int]:
    """Realistic subscription batches (the collector benchmark's workload) and their exact span count."""
    return subscription_batches(120, seed=11, events_per_batch=1000)


@pytest.fixture
def small_batches() -> tuple[list[dict[str, Any]], int]:
    """Fewer spans for DynamoDB: moto's server stores only a few hundred spans a second."""
    return subscription_batches(50, seed=12, events_per_batch=1000)


def hold_write_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the store's write lock for `seconds`; returns once it holds it."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.fixture
def lambda_collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The collector's Lambda entry point with its store at a fresh SQLite file (created, then left idle)."""
    db = tmp_path / "spans.db"
    monkeypatch.setenv("HOPTRACE_STORE", f"sqlite:///{db}?busy_timeout_ms=3000")
    collector.reset()
    collector.ingestor()
    yield db
    collector.reset()


def test_sqlite_lock_held_briefly_by_another_process_only_delays_the_batch(
        lambda_collector: Path, batches: tuple[list[dict[str, Any]], int]) -> None:
    events, total = batches
    # GIVEN another process holding the write lock for 1.5 s
    holder = hold_write_lock(lambda_collector, 1.5)
    # WHEN the collector handles the batches meanwhile
    started = time.monotonic()
    summaries = [collector.handler(event) for event in events]
    waited = time.monotonic() - started
    holder.wait(10)
    # THEN it waited for the lock (retried by SQLite's busy handler) and stored every span, once
    assert waited >= 1.0
    assert sum(s["spans_written"] for s in summaries) == total == len(set(stored_span_keys(lambda_collector)))
    print(f"\nSQLite lock held 1.5 s by another process: batch stored after {waited:.2f} s")


def test_sqlite_lock_held_past_the_timeout_fails_the_batch_loudly_and_the_retry_stores_it(
        tmp_path: Path, batches: tuple[list[dict[str, Any]], int], capsys: pytest.CaptureFixture[str]) -> None:
    events, total = batches
    db = tmp_path / "spans.db"
    store = open_store(f"sqlite:///{db}?busy_timeout_ms=300")
    ingestor = Ingestor(store)
    try:
        # GIVEN the lock held for 1.2 s, four times the store's busy_timeout
        holder = hold_write_lock(db, 1.2)
        # WHEN a batch arrives THEN the write fails as a whole, loudly
        with pytest.raises(StoreError, match="database is locked"):
            ingestor.ingest(events[0])
        line = next(out for out in capsys.readouterr().out.splitlines() if "store_write_failed" in out)
        assert '"error":"StoreError: sqlite store' in line and "database is locked" in line
        holder.wait(10)
        assert stored_span_keys(db) == []
        # AND once the lock is gone, the redelivered batches store every span once
        for event in events:
            ingestor.ingest(event)
        ingestor.ingest(events[0])
    finally:
        store.close()
    keys = stored_span_keys(db)
    assert len(keys) == len(set(keys)) == total


class Throttle:
    """Answers DynamoDB calls with ProvisionedThroughputExceededException before they leave the client.

    `every` = N throttles one call in N of each operation (a retry is a call too); `always` throttles
    every call. Registered on botocore's `before-call.dynamodb` event, whose first non-None
    answer replaces the HTTP round trip: the client raises the error as if DynamoDB had sent it.
    """

    def __init__(self, client: Any, operations: tuple[str, ...], every: int = 0, always: bool = False) -> None:
        self.client, self.operations, self.every, self.always = client, operations, every, always
        self.seen: Counter[str] = Counter()
        self.throttled = 0
        for operation in operations:
            client.meta.events.register(f"before-call.dynamodb.{operation}", self)

    def __call__(self, model: Any, **_: Any) -> Any:
        self.seen[model.name] += 1
        if not (self.always or self.seen[model.name] % self.every == 1):
            return None
        self.throttled += 1
        return _Http(400), {"Error": {"Code": "ProvisionedThroughputExceededException",
                                      "Message": "The level of configured provisioned throughput for the table was "
                                                 "exceeded (injected by the test)"},
                            "ResponseMetadata": {"HTTPStatusCode": 400}}

    def remove(self) -> None:
        for operation in self.operations:
            self.client.meta.events.unregister(f"before-call.dynamodb.{operation}", self)


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}


@pytest.fixture
def dynamo_store(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS

    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    store = open_store(f"dynamodb://rel-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto_endpoint}&create=1")
    yield store
    store.close()


WRITES = ("BatchWriteItem", "PutItem", "UpdateItem", "BatchGetItem")


def test_dynamodb_throttling_is_retried_with_backoff_and_nothing_is_dropped(
        dynamo_store: Store, small_batches: tuple[list[dict[str, Any]], int]) -> None:
    events, total = small_batches
    io = dynamo_store.io  # type: ignore[attr-defined]
    # GIVEN a table that throttles one in three calls of every write and batch read
    throttle = Throttle(io.client, WRITES, every=3)
    # WHEN the collector stores the batches
    started = time.monotonic()
    summaries = [Ingestor(dynamo_store).ingest(event) for event in events]
    elapsed = time.monotonic() - started
    throttle.remove()
    # THEN the throttled calls were retried (with backoff) and every span is stored, once
    assert throttle.throttled >= 10 and io.retries >= throttle.throttled
    assert sum(s["spans_written"] for s in summaries) == total == _stored_spans(dynamo_store)
    print(f"\nDynamoDB: {throttle.throttled} throttled calls retried, {total} spans stored in {elapsed:.1f} s")


def test_dynamodb_throttled_for_good_fails_the_batch_and_the_redelivery_stores_each_span_once(
        dynamo_store: Store, small_batches: tuple[list[dict[str, Any]], int],
        capsys: pytest.CaptureFixture[str]) -> None:
    events, total = small_batches
    io = dynamo_store.io  # type: ignore[attr-defined]
    io.max_attempts = 4  # the budget is a knob; four tries keep the test short
    # GIVEN every BatchWriteItem throttled, for good
    throttle = Throttle(io.client, ("BatchWriteItem",), always=True)
    # WHEN a batch arrives THEN the handler raises StoreError after its retries, with a line naming the cause
    with pytest.raises(StoreError, match="still throttled"):
        Ingestor(dynamo_store).ingest(events[0])
    assert throttle.throttled == 4
    line = next(out for out in capsys.readouterr().out.splitlines() if "store_write_failed" in out)
    assert "ProvisionedThroughputExceededException" in line
    # AND when throttling ends, the redelivered batches store every span once; summaries count each once
    throttle.remove()
    for event in [events[0], *events]:
        Ingestor(dynamo_store).ingest(event)
    assert _stored_spans(dynamo_store) == total
    for summary in dynamo_store.list_traces(TraceFilter(limit=1000)):
        assert summary.span_count == len(dynamo_store.get_trace(summary.trace_id))


def _stored_spans(store: Store) -> int:
    spans = [(s.trace_id, s.span_id) for t in store.list_traces(TraceFilter(limit=1000))
             for s in store.get_trace(t.trace_id)]
    assert len(spans) == len(set(spans))
    return len(spans)
