"""One flow across hops AWS carries no context for: a trace joined with the traces it wrote to or read from.

An S3 notification, a DynamoDB stream record or a Kinesis record starts a new trace in the
consumer; the collector's link keys (`hoptrace_collector.store.links`) say which client span
wrote what the consumer read. Here the linked traces are fetched (both directions, a bounded
number) and, for display only, each consumer trace's root is hung under the span that wrote its
first linked record, so the waterfall and the hops read as one request. Nothing in the store
changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hoptrace_collector.store import SpanRecord, Store
from hoptrace_collector.store.links import ResolvedLink, trace_links

MAX_TRACES = 25  # a fan-out to thousands of objects is shown as its first traces, not loaded whole
JOINED_FROM = "hoptrace.joined_from"  # on a re-parented root: the link key that joined it


def joined_spans(store: Store, trace_id: str, max_traces: int = MAX_TRACES) -> list[SpanRecord]:
    """The trace's spans first, then those of every trace linked to it (transitively), consumer roots re-parented."""
    traces: dict[str, list[SpanRecord]] = {trace_id: store.get_trace(trace_id)}
    resolved: dict[tuple[str, str], ResolvedLink] = {}
    queue = [trace_id]
    while queue and len(traces) < max_traces:
        current = queue.pop(0)
        for link in trace_links(store, current, traces[current]):
            resolved.setdefault((link.consumer_trace_id, link.consumer_span_id), link)
            for other in (link.producer_trace_id, link.consumer_trace_id):
                if other not in traces and len(traces) < max_traces:
                    traces[other] = store.get_trace(other)
                    queue.append(other)
    if len(traces) == 1:
        return traces[trace_id]
    spans: list[SpanRecord] = []
    for other, own in traces.items():
        spans.extend(_reparented(own, [r for r in resolved.values() if r.consumer_trace_id == other and
                                       r.producer_trace_id in traces and r.producer_trace_id != other]))
    return spans


def _reparented(spans: Sequence[SpanRecord], links: list[ResolvedLink]) -> list[SpanRecord]:
    """The roots of a consumer trace under the producer span of its earliest-starting linked record."""
    if not links or not spans:
        return list(spans)
    starts = {s.span_id: s.start_ns for s in spans}
    first = min(links, key=lambda link: starts.get(link.consumer_span_id, 0))
    ids = set(starts)
    return [dataclasses.replace(s, parent_id=first.producer_span_id,
                                attributes={**s.attributes, JOINED_FROM: first.key})
            if s.parent_id is None or s.parent_id not in ids else s for s in spans]
