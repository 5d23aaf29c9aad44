"""Several subscription payloads in one store write (`Ingestor.ingest_many`): the same store as one by one."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from benchmarks import collector_data
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store, StoreError, TraceFilter, open_store
from hoptrace_collector.store.model import WriteResult
from tests.collector.payloads import (
    OK_HANDLER,
    REQUEST_ID,
    T0_MS,
    end_line,
    report_line,
    start_line,
    subscription_event,
    timeout_line,
    traced_lines,
)
from tests.collector.test_handler import TRACE, pending_copy
from tests.conftest import load_event


def contents(store: Store) -> tuple[Any, ...]:
    """Everything a reader sees: every trace's summary and spans, invocations, stats."""
    traces = store.list_traces(TraceFilter(limit=10_000))
    spans = sorted((dataclasses.astuple(s) for t in traces for s in store.get_trace(t.trace_id)), key=repr)
    invocations = sorted(dataclasses.astuple(r) for r in store.invocations(limit=10_000))
    stats = store.function_stats(since_ns=0, until_ns=2**62, bucket_s=60)
    return tuple(sorted(traces, key=lambda t: t.trace_id)), tuple(spans), tuple(invocations), tuple(stats)


def test_many_payloads_in_one_write_store_what_one_by_one_stores(any_store: Store, tmp_path: Path) -> None:
    # GIVEN realistic payloads: traces of 5-15 spans over several functions, with START/END/REPORT lines
    # (fewer on DynamoDB: moto's server takes about 5 ms per item, and every read below is a Query)
    events, total = collector_data.subscription_batches(60 if any_store.url.startswith("dynamodb") else 600, seed=7)
    one_by_one = open_store(f"sqlite:///{tmp_path}/one-by-one.db")
    single = Ingestor(one_by_one)
    for event in events:
        single.ingest(event)
    # WHEN the same payloads are ingested in one call
    summary = Ingestor(any_store).ingest_many(events)
    # THEN every span is written once and the store holds exactly what one payload at a time gives
    assert summary["payloads"] == len(events) and summary["spans_written"] == total
    assert "problems" not in summary
    assert contents(any_store) == contents(one_by_one)
    # AND a redelivery of all of them changes nothing
    again = Ingestor(any_store).ingest_many(copy.deepcopy(events))
    assert (again["spans_written"], again["spans_unchanged"], again["invocations_written"]) == (0, total, 0)
    assert contents(any_store) == contents(one_by_one)
    one_by_one.close()


def test_a_timeout_joins_the_pending_span_of_an_earlier_payload_of_the_same_call(store: Store) -> None:
    # GIVEN the watchdog's pending span in one payload and the timeout lines in the next, in one call
    lines = traced_lines(OK_HANDLER, load_event("apigateway_v1"))
    summary = Ingestor(store).ingest_many([
        subscription_event([start_line(), pending_copy(lines[0])]),
        subscription_event([(T0_MS + 3000, timeout_line()), (T0_MS + 3001, end_line()),
                            (T0_MS + 3002, report_line(duration=3000.0))])])
    # THEN the failure took the pending span's place in the request's trace
    assert summary["platform_failures"] == 1
    [failed] = [s for s in store.get_trace(TRACE) if s.request_id == REQUEST_ID]
    assert (failed.source, failed.status, failed.pending) == ("platform", "error", False)
    assert store.list_traces(TraceFilter(trace_id=TRACE))[0].error_count >= 1


class _Failing:
    """A store whose span write fails (the disk, the lock) after it was handed the whole batch."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def write(self, spans: Sequence[Any] = (), invocations: Sequence[Any] = (), dlq: Sequence[Any] = ()) -> WriteResult:
        self.calls.append(len(spans))
        raise StoreError("disk full")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_write_stores_nothing_and_raises_so_the_caller_retries_them_all(store: Store) -> None:
    events, total = collector_data.subscription_batches(200, seed=8)
    failing = _Failing(store)
    with pytest.raises(StoreError):
        Ingestor(failing).ingest_many(events)  # type: ignore[arg-type]
    # one write was tried, holding every payload's spans; nothing is stored
    assert failing.calls == [total]
    assert store.list_traces(TraceFilter()) == []
    # AND the retry stores them all
    assert Ingestor(store).ingest_many(events)["spans_written"] == total


def test_bad_payloads_cost_only_themselves(store: Store) -> None:
    events, total = collector_data.subscription_batches(100, seed=9)
    summary = Ingestor(store).ingest_many([{"awslogs": {"data": "not base64!"}}, *events, {"nothing": 1}])
    assert summary["spans_written"] == total
    assert summary["problems"] == {"bad_base64": 1, "not_subscription_event": 1}
