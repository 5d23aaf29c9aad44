"""The one-screen summary of a demo run, read back from the store (not from the generator's memory).

What the generator sent is compared with what the collector stored, so the summary is also
the demo's own check that nothing was lost on the way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hoptrace.semconv import SFN_COMPENSATION, TRIGGER_STEPFUNCTIONS
from hoptrace_collector.store import Store, TraceFilter

from .traffic import Sent, TrafficStats

# Every placed order crosses these services; invoices only when the payment went through.
FLOW = ("orders", "payments", "inventory", "notifications")


@dataclass
class FunctionLine:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    p95_ms: float = 0.0


@dataclass
class DemoReport:
    seconds: float
    traffic: TrafficStats
    traces: int = 0
    spans: int = 0
    complete: int = 0
    incomplete: list[str] = field(default_factory=list)
    functions: dict[str, FunctionLine] = field(default_factory=dict)
    dlq: Counter = field(default_factory=Counter)  # queue -> messages recorded by the DLQ watcher
    dlq_with_trace: Counter = field(default_factory=Counter)
    queue_depths: dict[str, int] = field(default_factory=dict)  # what SQS itself says
    store_url: str = ""
    sagas: Counter = field(default_factory=Counter)  # "confirmed" / "compensated" -> saga orders traced


def stored_since(store: Store, since_ns: int) -> tuple[int, int]:
    """(traces, spans) the store holds from this run: what the live line and the summary both report."""
    summaries = store.list_traces(TraceFilter(since_ns=since_ns, limit=1_000_000))
    return len(summaries), sum(s.span_count for s in summaries)


def missing_services(store: Store, trace_id: str) -> list[str]:
    """The services a placed order must cross that its trace does not show (yet)."""
    services = {span.service for span in store.get_trace(trace_id)}
    return [name for name in FLOW if name not in services]


def missing_parts(store: Store, sent: Sent) -> list[str]:
    """What a placed order's trace still lacks: services it must cross, and parents its spans name.

    A span whose parent is not stored yet would be drawn as a second root (an invoices span before the
    payments PutEvents that sent it), so a flow counts as whole only when every parent is there; the one
    parent outside the trace is the client's own span, which the generator sent in `traceparent`."""
    spans = store.get_trace(sent.trace_id)
    services, ids = {span.service for span in spans}, {span.span_id for span in spans}
    missing = [name for name in FLOW if name not in services]
    missing += sorted({f"the parent of a {span.service} span" for span in spans
                       if span.parent_id and span.parent_id not in ids and span.parent_id != sent.parent_span_id})
    return missing


def saga_outcome(store: Store, trace_id: str) -> str | None:
    """"confirmed" or "compensated" once the order's trace holds its saga execution's states, else None."""
    spans = store.get_trace(trace_id)
    if not any(span.trigger == TRIGGER_STEPFUNCTIONS and span.source == "history" and span.parent_id is not None
               and not span.pending and span.name.endswith(" execution") for span in spans):
        return None
    return "compensated" if any(span.attributes.get(SFN_COMPENSATION) for span in spans) else "confirmed"


def build_report(store: Store, traffic: TrafficStats, since_ns: int, until_ns: int, seconds: float,
                 queue_depths: dict[str, int] | None = None) -> DemoReport:
    report = DemoReport(seconds, traffic, queue_depths=dict(queue_depths or {}), store_url=store.url)
    report.traces, report.spans = stored_since(store, since_ns)
    for sent in traffic.placed:
        missing = missing_parts(store, sent)
        if missing:
            report.incomplete.append(f"{sent.trace_id} (missing {', '.join(missing)})")
        else:
            report.complete += 1
    for sent in traffic.sagas:
        outcome = saga_outcome(store, sent.trace_id)
        if outcome is not None:
            report.sagas[outcome] += 1
    for row in store.function_stats(since_ns=since_ns, until_ns=until_ns, bucket_s=max(60, int(seconds) + 60)):
        line = report.functions.setdefault(row.function, FunctionLine())
        line.invocations += row.invocations
        line.errors += row.errors
        line.cold_starts += row.cold_starts
        line.p95_ms = max(line.p95_ms, row.p95_ms)
    for message in store.dlq_messages():
        report.dlq[message.queue] += 1
        report.dlq_with_trace[message.queue] += message.trace_id is not None
    return report


def render(report: DemoReport) -> str:
    t = report.traffic
    statuses = ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(t.by_status.items()))
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(t.by_kind.items()))
    lines = [
        f"hoptrace demo: {report.seconds:.0f} s of traffic",
        f"  requests      {t.total} sent ({kinds}); HTTP {statuses}",
        f"  traces        {report.traces} stored, {report.spans} spans",
        f"  order flows   {report.complete}/{len(t.placed)} placed orders traced through "
        f"{', '.join(FLOW[:-1])} and {FLOW[-1]}",
    ]
    for missing in report.incomplete[:5]:
        lines.append(f"                incomplete: {missing}")
    if t.sagas:
        lines.append(f"  order sagas   {sum(report.sagas.values())}/{len(t.sagas)} saga orders traced through their "
                     f"state machine ({report.sagas['confirmed']} confirmed, {report.sagas['compensated']} "
                     "compensated)")
    lines.append(f"  {'function':<34} {'invocations':>11} {'errors':>7} {'cold starts':>11} {'p95':>10}")
    for name, line in sorted(report.functions.items()):
        lines.append(f"  {name:<34} {line.invocations:>11} {line.errors:>7} {line.cold_starts:>11} "
                     f"{line.p95_ms:>7.1f} ms")
    queues = sorted(set(report.dlq) | set(report.queue_depths))
    if queues:
        lines.append("  dead-letter queues")
        for queue in queues:
            depth = report.queue_depths.get(queue)
            lines.append(f"    {queue:<40} {depth if depth is not None else '?':>4} messages in SQS, "
                         f"{report.dlq[queue]} recorded ({report.dlq_with_trace[queue]} with their trace)")
    lines.append(f"  store         {report.store_url}")
    return "\n".join(lines)
