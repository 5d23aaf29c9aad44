"""Rebuild one request's flow from its spans: the waterfall rows, the hops between services, errors, links.

The spans of a trace arrive from many functions in any order; this puts them back into
a tree (parents before children, siblings by start time), measures everything from the
request's first moment, and names each hop with `hops`. It is plain pandas so the trace
page and the tests read the same result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from hoptrace import semconv
from hoptrace_collector.store import SpanRecord
from hoptrace_dashboard import hops

MS = 1_000_000
ROW_COLUMNS = ["row", "depth", "span_id", "parent_id", "label", "name", "service", "function", "kind", "start_ms",
               "end_ms", "duration_ms", "status", "error", "hop", "via", "wait_ms", "cold_start", "init", "call"]
SEGMENT_COLUMNS = ["row", "label", "span_id", "segment", "start_ms", "end_ms", "duration_ms", "service", "status",
                   "hop", "detail"]
HOP_COLUMNS = ["at_ms", "from", "to", "hop", "via", "wait_ms", "span_id", "status"]
LINK_COLUMNS = ["trace_id", "span_id", "from_span", "from_name", "relation"]


@dataclass
class Flow:
    trace_id: str
    start_ns: int
    end_ns: int
    rows: pd.DataFrame  # one row per span in tree order (ROW_COLUMNS)
    segments: pd.DataFrame  # the waterfall's bars: spans, cold-start init, time waiting in queues
    hops: pd.DataFrame  # arrivals at a service, in time order
    links: pd.DataFrame  # other traces this one is joined to (batches, fan-in)
    errors: list[tuple[SpanRecord, str, str, str]] = field(default_factory=list)  # span, type, message, stack
    spans: dict[str, SpanRecord] = field(default_factory=dict)
    cold_start_ms: float = 0.0  # see init_ms

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / MS

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys(self.rows["service"]))


def init_ms(spans: Sequence[SpanRecord]) -> float:
    """How long some cold-start init of this trace was running: inits in parallel branches count once,
    so this is the share of the end-to-end time the request spent waiting for cold starts."""
    total, reach = 0, None
    for start, end in sorted((s.start_ns, s.end_ns) for s in spans if hops.is_init(s)):
        if reach is None or start > reach:
            total, reach = total + end - start, end
        elif end > reach:
            total, reach = total + end - reach, end
    return total / MS


def tree_order(spans: Sequence[SpanRecord]) -> list[tuple[SpanRecord, int]]:
    """(span, depth) parents first, siblings by start; spans whose parent is elsewhere start their own subtree.

    Every span is listed once, whatever the parent ids say: spans whose parents form a cycle (a span
    named as its own parent or ancestor: a garbled or colliding id) are reached from no root, so each
    such cycle starts a subtree of its own at its earliest span instead of dropping out of the waterfall."""
    ids = {s.span_id for s in spans}
    by_start = sorted(spans, key=lambda s: (s.start_ns, s.end_ns))
    children: dict[str | None, list[SpanRecord]] = {}
    for span in by_start:
        children.setdefault(span.parent_id if span.parent_id in ids else None, []).append(span)
    ordered: list[tuple[SpanRecord, int]] = []
    seen: set[str] = set()

    def walk(roots: list[SpanRecord]) -> None:
        stack = [(span, 0) for span in reversed(roots)]
        while stack:  # iterative: a deep chain of hops must not hit the recursion limit
            span, depth = stack.pop()
            if span.span_id in seen:
                continue
            seen.add(span.span_id)
            ordered.append((span, depth))
            stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))

    walk(children.get(None, []))
    if len(seen) < len(ids):  # only a cycle leaves a span unreached
        for span in by_start:
            if span.span_id not in seen:
                walk([span])
    return ordered


FAILED_STEP = "failed step"  # a Step Functions state that failed
COMPENSATION = "compensation"  # a state run because an earlier one failed and was caught


def saga_segment(span: SpanRecord, status: str) -> str | None:
    """Step Functions states read as a saga at a glance: a failed step red, the compensation after it green."""
    if semconv.SFN_STATE_NAME not in span.attributes or span.source != "history":
        return None
    if span.attributes.get(semconv.SFN_COMPENSATION) and status == "ok":
        return COMPENSATION
    return FAILED_STEP if status == "error" and span.attributes.get(semconv.SFN_STATE_TYPE) != "Fail" else None


def build(spans: Sequence[SpanRecord]) -> Flow | None:
    """The flow of one trace's spans (as `Store.get_trace` returns them); None for an unknown trace."""
    if not spans:
        return None
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    by_id = {s.span_id: s for s in spans}
    records = {s.parent_id: s for s in reversed(spans) if hops.is_record(s)}  # first record of each batch
    rows, segments, arrivals, errors = [], [], [], []
    for row, (span, depth) in enumerate(tree_order(spans)):
        hop = _hop(span, by_id, records)
        arrives = hop is not None and _arrives(span, by_id)
        label = f"{row + 1:>3}  {'· ' * depth}{span.name}"
        error_type, message, stack = hops.error_of(span) if span.status == "error" else ("", "", "")
        offset, finish = (span.start_ns - start) / MS, (span.end_ns - start) / MS
        is_init = hops.is_init(span)
        status = "error" if span.status == "error" else "ok"  # OpenTelemetry's "unset" is not an error
        rows.append([row, depth, span.span_id, span.parent_id, label, span.name, span.service, span.function,
                     span.kind, offset, finish, finish - offset, status,
                     f"{error_type}: {message}".strip(": ") if span.status == "error" else "",
                     hop.type if hop else "", hop.via if hop else "", hop.wait_ms if hop else None, span.cold_start,
                     is_init, hops.call_label(span)])
        segment = "cold-start init" if is_init else saga_segment(span, status) or span.service
        segments.append([row, label, span.span_id, segment, offset, finish, finish - offset, span.service,
                         status, hop.type if hop else "", span.status_message or hops.call_label(span)])
        if arrives and hop and hop.wait_ms:
            segments.append([row, label, span.span_id, "waiting in queue", offset - hop.wait_ms, offset, hop.wait_ms,
                             span.service, "ok", hop.type, f"waited {hop.wait_ms:.0f} ms in {hop.via}"])
        if arrives and hop:
            parent = by_id.get(span.parent_id or "")
            arrivals.append([offset, parent.service if parent else "(caller)", span.service, hop.type,
                             hop.via, hop.wait_ms, span.span_id, status])
        if span.status == "error":
            errors.append((span, error_type, message, stack))
    arrivals_frame = pd.DataFrame(arrivals, columns=HOP_COLUMNS).astype({"wait_ms": float})
    return Flow(
        trace_id=spans[0].trace_id, start_ns=start, end_ns=end,
        rows=pd.DataFrame(rows, columns=ROW_COLUMNS).astype({"wait_ms": float}),
        segments=pd.DataFrame(segments, columns=SEGMENT_COLUMNS),
        hops=arrivals_frame.sort_values("at_ms", kind="stable").reset_index(drop=True),
        links=_links(spans), errors=errors, spans=by_id, cold_start_ms=init_ms(spans))


def _hop(span: SpanRecord, by_id: dict[str, SpanRecord], records: dict[str | None, SpanRecord]) -> hops.Hop | None:
    hop = hops.inbound(span)
    if hop is None:
        return None
    record = records.get(span.span_id)
    if hop.type == "SQS" and record is not None:
        # The batch's record knows what the invocation does not: what fed the queue and the wait in it.
        return hops.inbound(record)
    parent = by_id.get(span.parent_id or "")
    # A service calling another's API: the hop is HTTP, arriving through API Gateway.
    if parent is not None and hop.type in hops.HTTP_TRIGGERS.values() and parent.kind == "client" \
            and semconv.URL_FULL in parent.attributes:
        return hops.Hop(f"HTTP → {hop.type}", hop.via, hop.wait_ms)
    return hop


def _arrives(span: SpanRecord, by_id: dict[str, SpanRecord]) -> bool:
    """A hop into a service: an invocation, or a batch record parented outside its invocation."""
    if hops.is_invocation(span):
        return True
    parent = by_id.get(span.parent_id or "")
    return parent is None or parent.function != span.function


def _links(spans: Sequence[SpanRecord]) -> pd.DataFrame:
    """Other traces named by this trace's span links: the batch that carried a record, or the records of a batch."""
    rows = []
    own = spans[0].trace_id
    for span in spans:
        for link in span.links:
            trace_id = link.get("trace_id")
            if not trace_id or trace_id == own:
                continue
            relation = "carried in batch" if hops.is_record(span) else "batch record from"
            rows.append([trace_id, link.get("span_id", ""), span.span_id, span.name, relation])
    return pd.DataFrame(rows, columns=LINK_COLUMNS).drop_duplicates(subset=["trace_id", "from_span"])
