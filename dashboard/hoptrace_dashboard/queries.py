"""The dashboard's questions to the store, answered as DataFrames.

Each function takes a `Store` and plain arguments and asks only for what one section of a
page shows: time ranges, filters and limits go into the store's own query, and pandas
shapes results that a limit already bounds; nothing here loads the store. Whole-range
questions go through `store.base` (`function_totals`, `function_series`, `slowest_traces`), which the SQLite store
answers from rollups and summaries kept on write. Where the Store interface cannot answer a
question directly (service-map edges), the answer is built from bounded samples and says so
(`Sampled`) until the store offers `edge_stats`. Nothing here imports Streamlit: `data` caches
these per store URL.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from hoptrace import semconv
from hoptrace_collector.store import FunctionStats, SpanRecord, Store, TraceFilter, TraceSummary, base
from hoptrace_dashboard import flow, hops, linked, tracelogs

MS = 1_000_000
SPAN_SAMPLE = 5000  # newest failed spans read for the failures page
COLD_SAMPLE = 2000  # newest cold starts read for their init durations (counts and rates come from rollups)
MAP_SAMPLE = 10_000  # newest spans read to draw the service map, shared out between the functions
MAP_SAMPLE_MIN = 200  # ... but at least this many per function, so a quiet function still shows its edges
TRACE_COLUMNS = ["trace_id", "start_ns", "duration_ms", "root_service", "root_name", "services", "span_count",
                 "error_count", "cold_starts"]
STAT_COLUMNS = ["function", "invocations", "errors", "cold_starts", "error_rate", "cold_rate", "p50_ms", "p95_ms",
                "p99_ms"]


@dataclass(frozen=True)
class Sampled:
    """A result built from at most `limit` rows per read; `complete` is False when a read hit its limit."""

    frame: pd.DataFrame
    complete: bool
    limit: int


def newest_ns(store: Store) -> int | None:
    """When the newest trace ended: where "the last hour" should end when the store stopped receiving."""
    newest = store.list_traces(TraceFilter(limit=1))
    return newest[0].end_ns if newest else None


def functions(store: Store) -> list[str]:
    return store.functions()


def services(store: Store) -> list[str]:
    """Service names (`service.name`) of the store's functions, each read off that function's newest span."""
    return sorted({s.service for f in store.functions() for s in store.spans(function=f, limit=1)})


_STATS_FIELDS = [f.name for f in dataclasses.fields(FunctionStats)]


def _stats_frame(rows: Iterable[FunctionStats]) -> pd.DataFrame:
    # attribute reads, not dataclasses.asdict: that deep-copies each field, a tenth of a second for a day's chart
    frame = pd.DataFrame([[getattr(r, name) for name in _STATS_FIELDS] for r in rows], columns=_STATS_FIELDS)
    frame["error_rate"] = frame["errors"] / frame["invocations"].where(frame["invocations"] > 0)
    frame["cold_rate"] = frame["cold_starts"] / frame["invocations"].where(frame["invocations"] > 0)
    return frame


def function_table(store: Store, since_ns: int, until_ns: int) -> pd.DataFrame:
    """Per function over the whole range: invocations, error and cold-start rates, p50/p95/p99 (from the
    store's per-minute rollups where it keeps them: exact counts, percentiles within 2 %)."""
    frame = _stats_frame(base.function_totals(store, since_ns=since_ns, until_ns=until_ns))
    return frame[STAT_COLUMNS].sort_values("function").reset_index(drop=True)


def without_platform_lines(store: Store, since_ns: int, until_ns: int,
                           invoked: tuple[str, ...] | None = None) -> list[str]:
    """Functions with invocation spans in the range but no platform line (START/REPORT or the JSON format's
    platform records): their cold starts, timeouts and crashes cannot be seen. A `SystemLogLevel` of WARN or
    higher drops those lines, and so does a subscription filter that does not ship them. `invoked`: the
    functions with invocations in the range when the caller has them already (the Overview's table)."""
    if invoked is None:
        invoked = tuple(s.function for s in base.function_totals(store, since_ns=since_ns, until_ns=until_ns)
                        if s.invocations)
    # A REPORT is logged when the invocation ends, a little after its span starts: look a minute past the range.
    return sorted(f for f in invoked if not store.invocations(
        function=f, since_ns=since_ns, until_ns=until_ns + 60 * 10**9, limit=1))


def function_series(store: Store, since_ns: int, until_ns: int, bucket_s: int,
                    function: str | None = None) -> pd.DataFrame:
    """The same figures per time bucket, for the charts.

    A bucket the range cuts (the first one starting before `since`, the last one still filling up
    or ending after `until`) holds a fraction of its traffic: drawn, it looks like a fall or a
    rise that never happened, so it is left out (unless nothing whole would remain).
    """
    frame = _stats_frame(base.function_series(store, since_ns=since_ns, until_ns=until_ns, bucket_s=bucket_s,
                                              function=function))
    frame = frame.sort_values(["bucket_start_ns", "function"]).reset_index(drop=True)
    bucket_ns = int(bucket_s * 1_000_000_000)
    end = min(until_ns, time.time_ns())
    whole = (frame["bucket_start_ns"] >= since_ns) & (frame["bucket_start_ns"] + bucket_ns <= end)
    return frame[whole].reset_index(drop=True) if whole.any() else frame


def _traces_frame(summaries: Iterable[TraceSummary]) -> pd.DataFrame:
    rows = [[s.trace_id, s.start_ns, s.duration_ns / MS, s.root_service, s.root_name, ", ".join(s.services),
             s.span_count, s.error_count, s.cold_starts] for s in summaries]
    return pd.DataFrame(rows, columns=TRACE_COLUMNS)


def trace_list(store: Store, *, service: str | None = None, function: str | None = None,
               status: Literal["error", "ok"] | None = None,
               cold_start: bool | None = None, min_duration_ms: float | None = None, since_ns: int | None = None,
               until_ns: int | None = None, find: str | None = None, text: str | None = None,
               limit: int = 200) -> pd.DataFrame:
    """The traces search; `find` is a trace id (32 hex digits) or a request id, looked up in the whole store."""
    find = (find or "").strip() or None
    flt = TraceFilter(service=service, function=function, status=status, cold_start=cold_start,
                      min_duration_ms=min_duration_ms, since_ns=None if find else since_ns,
                      until_ns=None if find else until_ns, text=text or None, limit=limit)
    if find is None:
        return _traces_frame(store.list_traces(flt))
    if re.fullmatch(r"[0-9a-fA-F]{32}", find):
        found = store.list_traces(dataclasses.replace(flt, trace_id=find.lower()))
        if found:
            return _traces_frame(found)
    return _traces_frame(store.list_traces(dataclasses.replace(flt, request_id=find)))


def failed_traces(store: Store, since_ns: int, until_ns: int, limit: int = 10) -> pd.DataFrame:
    return _traces_frame(store.list_traces(TraceFilter(since_ns=since_ns, until_ns=until_ns, status="error",
                                                       limit=limit)))


def slowest_traces(store: Store, since_ns: int, until_ns: int, n: int = 10, limit: int = 500) -> Sampled:
    """The n longest traces of the range (`store.base.slowest_traces`: the trace summaries, longest first)."""
    top, complete = base.slowest_traces(store, since_ns=since_ns, until_ns=until_ns, n=n, limit=limit)
    return Sampled(_traces_frame(top), complete, limit)


def trace_spans(store: Store, trace_id: str) -> list[SpanRecord]:
    """The trace's spans and those of the traces its S3/DynamoDB/Kinesis writes and reads link to."""
    return linked.joined_spans(store, trace_id)


def trace_logs(store: Store, trace_id: str) -> tracelogs.TraceLogs:
    """The application log lines of every invocation the trace ran in (see tracelogs.py)."""
    return tracelogs.trace_logs(store, trace_spans(store, trace_id))


def trace_dlq_ends(store: Store, trace_id: str) -> list[tracelogs.DlqEnd]:
    """The dead-letter queues the trace's messages ended in, with the logged cause (see tracelogs.py)."""
    spans = trace_spans(store, trace_id)
    return tracelogs.dlq_ends(store, trace_id, spans, tracelogs.trace_logs(store, spans))


def _spans_frame(spans: Iterable[SpanRecord]) -> pd.DataFrame:
    rows = [[s.trace_id, s.span_id, s.parent_id, s.function, s.service, s.name, s.kind, s.start_ns,
             (s.end_ns - s.start_ns) / MS, s.status, s.cold_start, s.trigger or "", hops.is_invocation(s)]
            for s in spans]
    return pd.DataFrame(rows, columns=["trace_id", "span_id", "parent_id", "function", "service", "name", "kind",
                                       "start_ns", "duration_ms", "status", "cold_start", "trigger", "invocation"])


# -- service map -------------------------------------------------------------------------------------------

EDGE_COLUMNS = ["source", "target", "source_label", "target_label", "source_kind", "target_kind", "hop", "calls",
                "errors", "error_rate", "p95_ms", "p95_wait_ms", "unit"]


def _edges_of(span: SpanRecord) -> list[tuple[hops.Node, hops.Node, str, float | None]]:
    """(from, to, hop, queue wait) edges one span proves, without looking at any other span."""
    me = hops.Node("function", span.function)
    target = hops.outbound(span)
    if target is not None:
        return [(me, target, "call", None)]
    hop = hops.inbound(span)
    if hop is None:
        return []
    if hops.is_record(span):  # what fed the queue; the invocation itself carries the queue -> function edge
        upstream = hops.upstream_node(span)
        return [(upstream, hops.Node("queue", hop.via), hop.type, hop.wait_ms)] if upstream else []
    source = hops.source_node(span, hop)
    return [(source, me, hop.type, hop.wait_ms)] if source is not None else []


def _edge_row(source: hops.Node, target: hops.Node, hop: str, span: SpanRecord, wait: float | None) -> list[object]:
    if target.kind == "queue" and hops.is_record(span):
        # A delivery into a queue (SNS → SQS, EventBridge → SQS), proven by the consumer's record: it arrived,
        # so it did not fail; the consumer's failure is charged to the queue → function edge. Its time is
        # the wait in the queue, not the consumer's processing. It counts messages: a message received
        # three times was delivered once.
        message = str(span.attributes.get(semconv.MESSAGING_MESSAGE_ID) or span.span_id)
        return [source.key, target.key, source.label, target.label, source.kind, target.kind, hop, False,
                wait if wait is not None else 0.0, wait, message]
    return [source.key, target.key, source.label, target.label, source.kind, target.kind, hop, span.status == "error",
            (span.end_ns - span.start_ns) / MS, wait, None]


def _producer(span: SpanRecord, called: dict[str, hops.Node]) -> hops.Node | None:
    """What the producer of a queue record called: its parent, or, in a batch that continued one trace (the
    record's parent is then its invocation), the producer span its link names."""
    for span_id in (span.parent_id, *(link.get("span_id") for link in span.links)):
        if span_id and span_id in called:
            return called[span_id]
    return None


def _deliveries(unexplained: list[SpanRecord], called: dict[str, hops.Node]) -> list[list[object]]:
    """SNS → SQS rows for queue records that do not say what fed the queue (raw delivery). The publishing
    span names the topic; when it is not among the spans read (published before the range, or past the
    newest spans read of its function), the queue's topic is the one its other records name, if only one."""
    rows: list[list[object]] = []
    topics: dict[hops.Node, set[hops.Node]] = {}
    unknown: list[tuple[SpanRecord, hops.Node, float | None]] = []
    for span in unexplained:
        hop = hops.inbound(span)
        queue, wait = hops.Node("queue", hop.via if hop else "?"), hop.wait_ms if hop else None
        producer = _producer(span, called)
        if producer is None:
            unknown.append((span, queue, wait))
        elif producer.kind == "topic":
            topics.setdefault(queue, set()).add(producer)
            rows.append(_edge_row(producer, queue, "SNS → SQS", span, wait))
    for span, queue, wait in unknown:
        if len(topics.get(queue, ())) == 1:
            rows.append(_edge_row(next(iter(topics[queue])), queue, "SNS → SQS", span, wait))
    return rows


def service_edges(store: Store, since_ns: int, until_ns: int, sample: int = MAP_SAMPLE) -> Sampled:
    """Edges between functions and what lies between them, from the newest spans of each function in range.

    A delivery into a queue counts messages (each once, however often it was received); every
    other edge counts calls, so a queue → function edge counts invocations, that is batches.
    """
    rows, complete = [], True
    names = store.functions()
    per_function = max(MAP_SAMPLE_MIN, sample // max(len(names), 1))
    called: dict[str, hops.Node] = {}  # span id of a client/producer span -> what it called
    unexplained: list[SpanRecord] = []  # queue records that do not say what fed the queue (raw SNS delivery)
    for function in names:
        spans = store.spans(function=function, since_ns=since_ns, until_ns=until_ns, limit=per_function)
        complete &= len(spans) < per_function
        for span in spans:
            edges = _edges_of(span)
            for source, target, hop, wait in edges:
                rows.append(_edge_row(source, target, hop, span, wait))
            callee = hops.outbound(span)
            if callee is not None:
                called[span.span_id] = callee
            elif hops.is_record(span) and not edges:
                unexplained.append(span)
    rows.extend(_deliveries(unexplained, called))
    raw = pd.DataFrame(rows, columns=["source", "target", "source_label", "target_label", "source_kind",
                                      "target_kind", "hop", "error", "duration_ms", "wait_ms", "message"])
    if raw.empty:
        return Sampled(pd.DataFrame(columns=EDGE_COLUMNS), complete, sample)
    raw = raw[raw["message"].isna() | ~raw.duplicated(["source", "target", "message"])]
    keys = ["source", "target", "source_label", "target_label", "source_kind", "target_kind"]
    raw = raw.astype({"duration_ms": float, "wait_ms": float})  # no hop with a queue wait: None, not NaN
    grouped = raw.groupby(keys)
    # Built-in aggregations (one vectorised pass each), not per-group lambdas: pandas calls a lambda once
    # per group with a new Series, which cost half a second on a busy range.
    edges = grouped.agg(calls=("error", "size"), errors=("error", "sum"), deliveries=("message", "count"))
    edges["p95_ms"] = grouped["duration_ms"].quantile(0.95)
    edges["p95_wait_ms"] = grouped["wait_ms"].quantile(0.95)
    edges["hop"] = raw.drop_duplicates([*keys, "hop"]).sort_values("hop").groupby(keys)["hop"].agg(", ".join)
    edges = edges.reset_index()
    edges["error_rate"] = edges["errors"] / edges["calls"]
    edges["unit"] = ["messages" if n else "calls" for n in edges["deliveries"]]
    return Sampled(edges[EDGE_COLUMNS].sort_values(["source", "target"]).reset_index(drop=True), complete, sample)


# -- cold starts ---------------------------------------------------------------------------------------------

def cold_starts(store: Store, since_ns: int, until_ns: int, function: str | None = None) -> Sampled:
    """Each cold-started invocation of the range (newest first): its init time and its own duration."""
    spans = store.spans(function=function, since_ns=since_ns, until_ns=until_ns, cold_starts_only=True,
                        limit=COLD_SAMPLE)
    invocations = [s for s in spans if hops.is_invocation(s)]
    frame = _spans_frame(invocations)
    frame["init_ms"] = pd.Series([s.attributes.get(semconv.INIT_DURATION_MS) for s in invocations], dtype=float)
    return Sampled(frame, len(spans) < COLD_SAMPLE, COLD_SAMPLE)


def warm_sample(store: Store, since_ns: int, until_ns: int, function: str | None = None,
                per_function: int = 1000) -> pd.DataFrame:
    """The newest invocation spans of each function in range (most are warm), to set cold starts against."""
    names = [function] if function else store.functions()
    spans = [s for name in names
             for s in store.spans(function=name, since_ns=since_ns, until_ns=until_ns, limit=per_function)
             if hops.is_invocation(s)]
    return _spans_frame(spans)


VERSUS_COLUMNS = ["function", "start", "invocations", "p50_ms", "p95_ms"]


def start_durations(store: Store, since_ns: int, until_ns: int, function: str | None = None) -> Sampled:
    """p50/p95 of invocation durations per function, cold starts apart from warm ones: over every invocation
    of the range where the store keeps rollups (`store.base.cold_vs_warm`, complete), else from samples."""
    exact = base.cold_vs_warm(store, since_ns=since_ns, until_ns=until_ns, function=function)
    if exact is not None:
        return Sampled(pd.DataFrame(exact, columns=VERSUS_COLUMNS), True, 0)
    cold = cold_starts(store, since_ns, until_ns, function)
    return Sampled(cold_vs_warm(warm_sample(store, since_ns, until_ns, function), cold.frame), False, COLD_SAMPLE)


def cold_vs_warm(warm: pd.DataFrame, cold: pd.DataFrame) -> pd.DataFrame:
    """p50/p95 of invocation durations per function, cold starts apart from warm ones (from the two samples)."""
    spans = pd.concat([warm, cold[warm.columns]], ignore_index=True).drop_duplicates(subset=["trace_id", "span_id"])
    if spans.empty:
        return pd.DataFrame(columns=VERSUS_COLUMNS)
    spans = spans.assign(start=spans["cold_start"].map({True: "cold", False: "warm"}))
    return spans.groupby(["function", "start"], as_index=False).agg(
        invocations=("duration_ms", "size"), p50_ms=("duration_ms", "median"),
        p95_ms=("duration_ms", lambda d: d.quantile(0.95)))


def cold_traces(store: Store, since_ns: int, until_ns: int, function: str | None = None,
                limit: int = 100) -> pd.DataFrame:
    """Traces that waited for a cold start: which functions started cold and how much of the request init took.

    The share needs the trace's own spans (inits in parallel branches overlap), so it is
    read for the newest `limit` such traces only: one primary-key lookup each.
    """
    traces = _traces_frame(store.list_traces(TraceFilter(function=function, cold_start=True, since_ns=since_ns,
                                                         until_ns=until_ns, limit=limit)))
    init, cold_functions = [], []
    for trace_id in traces["trace_id"]:
        spans = store.get_trace(trace_id)
        init.append(flow.init_ms(spans))
        cold_functions.append(", ".join(sorted({s.function for s in spans if s.cold_start})))
    traces["init_ms"] = pd.Series(init, dtype=float)
    traces["cold_functions"] = cold_functions
    traces["init_share"] = traces["init_ms"] / traces["duration_ms"].where(traces["duration_ms"] > 0)
    if function is not None:  # the store's filter means "has a cold start and passes through the function"
        traces = traces[[function in names.split(", ") for names in traces["cold_functions"]]]
    return traces.reset_index(drop=True)


# -- failures ------------------------------------------------------------------------------------------------

_NUMBERS = re.compile(r"\b(?:[0-9a-f]{8,}|\d+(?:\.\d+)?)\b")


def error_key(span: SpanRecord) -> str:
    """What groups failures: the exception type, else the status message with its numbers and ids blanked."""
    error_type, message, _ = hops.error_of(span)
    return error_type or _NUMBERS.sub("N", message) or "error"


@dataclass(frozen=True)
class Failures:
    groups: Sampled  # failed invocations and batch records, grouped by function and error
    retries: pd.DataFrame  # asynchronous invocations Lambda retried


def failures(store: Store, since_ns: int, until_ns: int, function: str | None = None, traces: int = 25) -> Failures:
    """The failed spans of the range (newest first), grouped by error, and the async events retried among them.

    A retry of an async event (SNS, EventBridge, async Invoke) carries the same trace
    context, so it is another invocation span of the same function under the same parent:
    the newest `traces` such events are looked up whole to count attempts and the outcome.
    """
    spans = store.spans(function=function, since_ns=since_ns, until_ns=until_ns, errors_only=True,
                        limit=SPAN_SAMPLE)
    groups = _failure_groups(spans)
    groups["example_cause"] = [_logged_cause(store, span_id, trace_id) if i < traces else ""
                               for i, (span_id, trace_id) in enumerate(zip(groups["example_span"],
                                                                           groups["example_trace"], strict=True))]
    return Failures(Sampled(groups, len(spans) < SPAN_SAMPLE, SPAN_SAMPLE), _async_retries(store, spans, traces))


def _logged_cause(store: Store, span_id: str, trace_id: str) -> str:
    """What the failed span's invocation logged about it (tracelogs.TraceLogs.cause), as one text."""
    spans = store.get_trace(trace_id)
    span = next((s for s in spans if s.span_id == span_id), None)
    if span is None:
        return ""
    return " ⏎ ".join(x.message for x in tracelogs.trace_logs(store, spans).cause(span))[:1000]


def _failure_groups(spans: list[SpanRecord]) -> pd.DataFrame:
    rows = [[s.function, "record" if hops.is_record(s) else "invocation", error_key(s), hops.error_of(s)[1],
             s.start_ns, s.trace_id, s.span_id] for s in spans if hops.is_invocation(s) or hops.is_record(s)]
    raw = pd.DataFrame(rows, columns=["function", "what", "error", "message", "start_ns", "trace_id", "span_id"])
    if raw.empty:
        return pd.DataFrame(columns=["function", "what", "error", "count", "first_ns", "last_ns", "example_message",
                                     "example_trace", "example_span"])
    groups = raw.groupby(["function", "what", "error"], as_index=False).agg(
        count=("trace_id", "size"), first_ns=("start_ns", "min"), last_ns=("start_ns", "max"),
        example_message=("message", "first"), example_trace=("trace_id", "first"),
        example_span=("span_id", "first"))  # spans come newest first
    return groups.sort_values("count", ascending=False).reset_index(drop=True)


def _async_retries(store: Store, spans: list[SpanRecord], traces: int) -> pd.DataFrame:
    failed = [s for s in spans if hops.is_invocation(s) and (s.trigger or "") in hops.ASYNC_TRIGGERS]
    events = list(dict.fromkeys((s.trace_id, s.function, s.parent_id) for s in failed))[:traces]
    rows = []
    for trace_id, name, parent in events:
        attempts = sorted((s for s in store.get_trace(trace_id)
                           if s.function == name and s.parent_id == parent and hops.is_invocation(s)),
                          key=lambda s: s.start_ns)
        if not attempts:
            continue
        errors = [s for s in attempts if s.status == "error"]
        rows.append([name, attempts[0].name, len(attempts), len(errors),
                     "failed" if attempts[-1].status == "error" else "succeeded",
                     error_key(errors[0]) if errors else "", attempts[-1].start_ns, trace_id])
    return pd.DataFrame(rows, columns=["function", "event", "attempts", "failed_attempts", "outcome", "error",
                                       "last_ns", "trace_id"])


def dlq(store: Store, queue: str | None = None, limit: int = 500, explain: int = 50) -> pd.DataFrame:
    """Messages that ended in a dead-letter queue, with their trace and the error that sent them there.

    When the DLQ watcher did not know the error, the newest failed processing span of the
    message's trace says it (looked up for the newest `explain` messages only).
    """
    messages = store.dlq_messages(queue=queue, limit=limit)
    rows = []
    for i, m in enumerate(messages):
        error, cause = m.error, ""
        if m.trace_id and i < explain:
            spans = store.get_trace(m.trace_id)
            failed = [s for s in spans if s.status == "error"]
            if not error:
                error = (" ".join(p for p in hops.error_of(failed[-1])[:2] if p)) if failed else ""
            ends = [e for e in tracelogs.dlq_ends(store, m.trace_id, spans, tracelogs.trace_logs(store, spans),
                                                  messages=messages)
                    if e.message_id == m.message_id]
            cause = " ⏎ ".join(x.message for x in ends[0].cause)[:1000] if ends else ""
        rows.append([m.queue, m.message_id, m.first_seen_ns, m.receive_count, m.trace_id or "", error, cause,
                     m.source_queue or "", m.body_preview])
    return pd.DataFrame(rows, columns=["queue", "message_id", "first_seen_ns", "receive_count", "trace_id", "error",
                                       "cause", "source_queue", "body_preview"])


def platform_failures(store: Store, since_ns: int, until_ns: int, function: str | None = None,
                      limit: int = 500) -> pd.DataFrame:
    """Timeouts, crashes and out-of-memory deaths, as the Lambda platform reported them."""
    records = store.invocations(function=function, since_ns=since_ns, until_ns=until_ns,
                                outcomes=["timeout", "crash", "oom"], limit=limit)
    return pd.DataFrame([[r.function, r.outcome, r.time_ns, r.duration_ms, r.max_memory_mb, r.memory_mb, r.message,
                          r.trace_id or "", r.request_id] for r in records],
                        columns=["function", "outcome", "time_ns", "duration_ms", "max_memory_mb", "memory_mb",
                                 "message", "trace_id", "request_id"])
