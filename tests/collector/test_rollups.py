"""Per-minute rollups kept on write (SQLite) and the whole-range questions they answer, against the spans."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from benchmarks import collector_data
from hoptrace_collector.store import FunctionStats, SpanRecord, Store, TraceFilter, base, open_store, rules
from hoptrace_collector.store.sqlite_rollups import MINUTE_NS

T0 = 1_795_593_398_000_000_000
SPREAD = 30 * MINUTE_NS


def workload(spans: int = 3000, seed: int = 4) -> list[SpanRecord]:
    return [r for inv in collector_data.invocations(spans, seed, T0, SPREAD) for r in collector_data.records(inv)]


def exact(store: Store, since: int, until: int) -> dict[str, FunctionStats]:
    return {s.function: s for s in store.function_stats(since_ns=since, until_ns=until,
                                                        bucket_s=base.WHOLE_RANGE_BUCKET_S)}


def assert_totals_match(store: Store, since: int, until: int) -> None:
    """Counts exactly as the spans say; percentiles within 2 % (the rollup's 2 % wide duration buckets)."""
    want = exact(store, since, until)
    got = {s.function: s for s in base.function_totals(store, since_ns=since, until_ns=until)}
    assert got.keys() == want.keys()
    for function, stats in want.items():
        assert_same(got[function], stats, function)


def assert_same(mine: FunctionStats, stats: FunctionStats, where: object) -> None:
    assert (mine.invocations, mine.errors, mine.cold_starts) == (stats.invocations, stats.errors,
                                                                 stats.cold_starts), where
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        assert getattr(mine, q) == pytest.approx(getattr(stats, q), rel=0.0201, abs=0.001), (where, q)


@pytest.fixture
def filled(store: Store) -> Store:
    spans = workload(3000)
    for start in range(0, len(spans), 700):  # several batches: the rollup adds up across writes
        store.write(spans[start:start + 700])
    return store


@pytest.mark.parametrize("since_offset,until_offset", [(0, SPREAD + MINUTE_NS), (MINUTE_NS // 3, SPREAD // 2 + 7),
                                                       (5 * MINUTE_NS, 6 * MINUTE_NS), (17, 40 * 10**9)])
def test_function_totals_are_what_the_spans_say(filled: Store, since_offset: int, until_offset: int) -> None:
    assert_totals_match(filled, T0 + since_offset, T0 + until_offset)


def test_the_rollup_follows_replaced_spans_and_redelivery(store: Store) -> None:
    spans = workload(1500, seed=5)
    invocations = [s for s in spans if s.request_id]
    # GIVEN the watchdog's pending copies of some invocations, stored first
    pending = [dataclasses.replace(s, pending=True, status="error", end_ns=s.end_ns + 10**9)
               for s in invocations[::7]]
    store.write(pending)
    # WHEN the finished spans arrive, a platform failure replaces some, and everything is delivered twice
    store.write(spans)
    failed = [dataclasses.replace(s, source="platform", status="error", end_ns=s.end_ns + 3 * 10**9)
              for s in invocations[::11]]
    store.write(failed)
    store.write(spans)
    store.write(pending)
    # THEN the rollup is exactly what the stored spans say
    assert_totals_match(store, T0, T0 + SPREAD + MINUTE_NS)


def test_retention_keeps_the_rollup_true(store: Store) -> None:
    store.write(workload(2000, seed=6))
    cutoff = T0 + 7 * MINUTE_NS + 12_345_678_901
    store.delete_older_than(cutoff)
    assert_totals_match(store, T0, T0 + SPREAD + MINUTE_NS)
    assert_totals_match(store, cutoff - MINUTE_NS, cutoff + 2 * MINUTE_NS)


def test_a_store_written_before_the_rollup_is_filled_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = open_store(str(path))
    store.write(workload(1000, seed=7))
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE function_minutes")
    reopened = open_store(str(path))
    assert_totals_match(reopened, T0, T0 + SPREAD + MINUTE_NS)
    reopened.close()


class _ThroughListTraces:
    """The store seen only through the methods every backend has (no `slowest_traces` of its own)."""

    def __init__(self, inner: Store) -> None:
        self.list_traces = inner.list_traces


def test_slowest_traces_are_the_longest_of_the_range(filled: Store) -> None:
    since, until = T0 + 3 * MINUTE_NS, T0 + 20 * MINUTE_NS
    every = filled.list_traces(TraceFilter(since_ns=since, until_ns=until, limit=100_000))
    longest = sorted(every, key=lambda s: (-s.duration_ns, s.trace_id))[:10]
    top, complete = base.slowest_traces(filled, since_ns=since, until_ns=until, n=10)
    assert complete and [s.duration_ns for s in top] == [s.duration_ns for s in longest]
    assert {s.trace_id for s in top} == {s.trace_id for s in longest}
    # AND the default, built from list_traces alone, agrees
    fallback, complete = base.slowest_traces(_ThroughListTraces(filled), since_ns=since, until_ns=until,  # type: ignore[arg-type]
                                             n=10, limit=50)
    assert complete and [s.duration_ns for s in fallback] == [s.duration_ns for s in longest]


@pytest.mark.parametrize("bucket_s", [60, 300, 3600])
def test_function_series_per_bucket_is_what_the_spans_say(filled: Store, bucket_s: int) -> None:
    since, until = T0 + 17, T0 + SPREAD - 5
    want = {(s.function, s.bucket_start_ns): s for s in filled.function_stats(since_ns=since, until_ns=until,
                                                                               bucket_s=bucket_s)}
    got = {(s.function, s.bucket_start_ns): s for s in base.function_series(filled, since_ns=since, until_ns=until,
                                                                             bucket_s=bucket_s)}
    assert got.keys() == want.keys()
    for key, stats in want.items():
        assert_same(got[key], stats, key)


def exact_cold_vs_warm(store: Store, since: int, until: int) -> dict[tuple[str, str], tuple[int, float, float]]:
    """What the stored spans say: (function, cold | warm) -> (invocations, p50, p95), reading every span."""
    durations: dict[tuple[str, str], list[float]] = {}
    for span in store.spans(since_ns=since, until_ns=until - 1, limit=10**7):
        if rules.is_invocation_span(span):
            key = (span.function, "cold" if span.cold_start else "warm")
            durations.setdefault(key, []).append((span.end_ns - span.start_ns) / 1e6)
    return {key: (len(d), rules.percentile(sorted(d), 0.5), rules.percentile(sorted(d), 0.95))
            for key, d in durations.items()}


@pytest.mark.parametrize("since_offset,until_offset", [(0, SPREAD + MINUTE_NS), (MINUTE_NS // 3, SPREAD // 2 + 7)])
def test_cold_vs_warm_counts_every_invocation_once(store: Store, since_offset: int, until_offset: int) -> None:
    """The Cold starts page's cold-vs-warm table, from the rollup: exact counts (redelivered and replaced spans
    counted once), percentiles within 2 %; and None from a store without rollups (the page then samples)."""
    spans = workload(3000, seed=8)
    store.write(spans)
    store.write(spans[::3])  # redelivered
    store.write([dataclasses.replace(s, source="platform", status="error", end_ns=s.end_ns + 2 * 10**9)
                 for s in spans[::13] if s.request_id])  # a platform failure replaces the span
    since, until = T0 + since_offset, T0 + until_offset
    want = exact_cold_vs_warm(store, since, until)
    got = {(f, start): (n, p50, p95) for f, start, n, p50, p95 in
           base.cold_vs_warm(store, since_ns=since, until_ns=until) or []}
    assert got.keys() == want.keys() and {k[1] for k in got} == {"cold", "warm"}
    for key, (n, p50, p95) in want.items():
        assert got[key][0] == n, key
        assert got[key][1:] == pytest.approx((p50, p95), rel=0.0201, abs=0.001), key
    assert base.cold_vs_warm(_ThroughListTraces(store), since_ns=since, until_ns=until) is None  # type: ignore[arg-type]
