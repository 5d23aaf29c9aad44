"""The benchmark's workload is valid collector input: every span is stored, nothing is reported malformed."""

from __future__ import annotations

from benchmarks.collector_data import FUNCTIONS, subscription_batches
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store, TraceFilter


def test_generated_batches_ingest_cleanly(store: Store) -> None:
    events, total = subscription_batches(2000, seed=3)
    ingestor = Ingestor(store)
    summaries = [ingestor.ingest(event) for event in events]
    assert not any("problems" in s for s in summaries)
    assert sum(s["spans_written"] for s in summaries) == total
    assert sum(s["invocations_written"] for s in summaries) == sum(s["invocations"] for s in summaries) > 0
    traces = store.list_traces(TraceFilter(limit=1000))
    assert all(5 <= t.span_count <= 15 for t in traces)
    assert set(store.functions()) <= set(FUNCTIONS) and len(FUNCTIONS) == 50
    assert store.spans(cold_starts_only=True, limit=1) and store.spans(errors_only=True, limit=1)
