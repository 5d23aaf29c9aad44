"""One subscription batch in, store records out: decode, sort lines, map, join failures, write once.

The order matters for the guarantees the handler gives:

- everything malformed is counted into `Problems` and skipped, never raised;
- the store write is the single place that may raise: then the split-line buffer is rolled
  back and the exception propagates, so the source retries the whole batch;
- records are built deterministically from the batch (no clocks, no random ids), so a
  redelivered batch rewrites identical records and the store counts them as unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hoptrace import wire
from hoptrace.config import DEFAULT_REDACTED_KEYS
from hoptrace_collector.ingest import applog, gcpause, jsonlog, openstream, platform
from hoptrace_collector.ingest.failures import Lookup, failure_span, stored_invocation_span
from hoptrace_collector.ingest.parts import PartBuffer
from hoptrace_collector.ingest.payload import LogBatch, PayloadError, decode_subscription
from hoptrace_collector.ingest.problems import LOG_PREFIX, Problems, log_line
from hoptrace_collector.ingest.quarantine import Quarantined, write_isolating
from hoptrace_collector.ingest.records import (
    DEFAULT_LIMITS,
    Limits,
    clean_attributes,
    layer_records,
    names,
)
from hoptrace_collector.ingest.text import clean_json_escapes
from hoptrace_collector.jsonlib import dumps, loads
from hoptrace_collector.store.base import Store
from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.model import InvocationRecord, SpanRecord, WriteResult
from hoptrace_collector.store.rules import PLATFORM_FAILURES, is_invocation_span
from hoptrace_collector.store.streamstate import StreamState

LAMBDA_GROUP_PREFIX = "/aws/lambda/"
PENDING = ""  # the request id of a line alone until its invocation is known (ingest/openstream.py)
_SHARED_RESOURCES = 1024  # distinct resources remembered (Ingestor._shared); one per function instance
_PREFIX_SEARCH = 400  # a runtime's log prefix ("<time>\t<request id>\tINFO\t") is far shorter


def span_text(message: str) -> str | None:
    """The `HOPTRACE …` text of a log message, also behind a runtime logging prefix, else None."""
    if message.startswith("HOPTRACE"):
        text = message
    else:
        index = message.find("\tHOPTRACE", 0, _PREFIX_SEARCH)
        if index < 0:
            return None
        text = message[index + 1:]
    text = text.rstrip("\r\n")
    return text if wire.is_span_line(text) else None


def function_of(log_group: str) -> str:
    return log_group[len(LAMBDA_GROUP_PREFIX):] if log_group.startswith(LAMBDA_GROUP_PREFIX) else log_group


@dataclass
class Decoded:
    """What one batch contributed, before it is written."""

    spans: list[SpanRecord] = field(default_factory=list)
    invocations: list[InvocationRecord] = field(default_factory=list)
    span_lines: int = 0
    failures: int = 0
    logs: list[LogLine] = field(default_factory=list)
    logs_unattributed: int = 0
    logs_dropped: int = 0
    stream_state: StreamState | None = None  # to store for the stream's next batch (ingest/applog.py)
    pending: list[LogLine] = field(default_factory=list)  # lines alone, request id PENDING (ingest/openstream.py)


class Ingestor:
    """Holds what lives as long as the process: the store, the split-line buffer, the forwarder."""

    def __init__(self, store: Store, parts: PartBuffer | None = None, limits: Limits = DEFAULT_LIMITS,
                 own_log_group: str | None = None,
                 forward: Callable[[list[SpanRecord]], dict[str, int]] | None = None,
                 lookup: Lookup | None = None, log_limits: applog.LogLimits = applog.DEFAULT_LOG_LIMITS,
                 redacted_keys: frozenset[str] = DEFAULT_REDACTED_KEYS) -> None:
        self.store = store
        self.log_limits = log_limits
        self.redacted_keys = redacted_keys
        self.parts = parts or PartBuffer()
        self.limits = limits
        self.own_log_group = own_log_group
        self.forward = forward
        self.lookup = lookup or stored_invocation_span(store)
        self._resources: dict[tuple[str, str, str], tuple[dict[str, Any], str, str]] = {}  # see `_shared`

    def ingest(self, event: Any) -> dict[str, Any]:
        """Store one subscription event; returns counts. Raises only when the store write fails."""
        with gcpause.paused():
            return self._ingest(event)

    def _ingest(self, event: Any) -> dict[str, Any]:
        problems = Problems()
        self.parts.checkpoint()
        batch, summary, decoded = self._open(event, problems, self.lookup)
        if decoded is None or batch is None:
            return self._finish(summary, problems, batch.log_group if batch else "", batch.log_stream if batch else "")
        result, quarantined, logs_written, placed = self._write([(batch, decoded)])
        self._quarantined(quarantined, [(batch, decoded)], problems)
        self._summarise(summary, decoded, result, logs_written, placed)
        return self._finish(summary, problems, batch.log_group, batch.log_stream)

    def ingest_many(self, events: Iterable[Any]) -> dict[str, Any]:
        """Store several subscription events in one store write (one transaction); returns their totals.

        Lambda hands the collector one payload per invocation, but whatever holds several — the
        benchmark, a replay of saved payloads, a test — pays one commit, and one summary upsert per
        trace and key, for all of them instead of one per payload. Payloads are decoded in order,
        exactly as one by one (split lines, open invocations, a platform failure joined to a pending
        span of an earlier payload of the same call); each payload's problems are logged with its own
        log group and stream. Exactly-once holds as for one payload: the write is all or nothing; when
        it fails the split-line buffer is rolled back and the exception propagates, so the caller
        retries them all (a redelivery changes nothing).
        """
        with gcpause.paused():
            return self._ingest_many(events)

    def _ingest_many(self, events: Iterable[Any]) -> dict[str, Any]:
        self.parts.checkpoint()
        seen: dict[tuple[str, str], SpanRecord] = {}
        lookup = _batch_lookup(seen, self.lookup)
        opened: list[tuple[LogBatch, Decoded]] = []
        totals: dict[str, Any] = {"payloads": 0, "events": 0}
        problems = Problems()
        for event in events:
            own = Problems()
            batch, summary, decoded = self._open(event, own, lookup)
            totals["payloads"] += 1
            totals["events"] += summary["events"]
            if decoded is not None and batch is not None:
                _remember_invocations(decoded.spans, seen)
                opened.append((batch, decoded))
            self._finish({}, own, batch.log_group if batch else "", batch.log_stream if batch else "")
            for kind, count in own.counts.items():
                problems.add(kind, count=count)
        result, quarantined, logs_written, placed = self._write(opened)
        self._quarantined(quarantined, opened, problems)
        merged = Decoded(spans=[s for _, d in opened for s in d.spans],
                         invocations=[r for _, d in opened for r in d.invocations],
                         span_lines=sum(d.span_lines for _, d in opened), failures=sum(d.failures for _, d in opened),
                         logs=[line for _, d in opened for line in d.logs],
                         logs_unattributed=sum(d.logs_unattributed for _, d in opened),
                         pending=[line for _, d in opened for line in d.pending])
        self._summarise(totals, merged, result, logs_written, placed)
        if problems:
            totals["problems"] = problems.as_dict()
        return totals

    def _summarise(self, summary: dict[str, Any], decoded: Decoded, result: WriteResult, logs_written: int,
                   placed_ids: set[str]) -> None:
        """Add what was decoded and written to `summary`, and forward the spans."""
        summary.update(_counts(decoded, result))
        if decoded.logs or decoded.pending or decoded.logs_unattributed:
            summary.update(log_lines=len(decoded.logs) + len(decoded.pending), log_lines_written=logs_written,
                           log_lines_unattributed=decoded.logs_unattributed)
        if decoded.pending:
            summary["log_lines_pending"] = len(decoded.pending) - sum(x.event_id in placed_ids for x in decoded.pending)
        if self.forward is not None and decoded.spans:
            summary["forwarded"] = self.forward(decoded.spans)

    def _open(self, event: Any, problems: Problems,
              lookup: Lookup) -> tuple[LogBatch | None, dict[str, Any], Decoded | None]:
        """The event's batch, the start of its summary and its records (None when there is nothing to write)."""
        try:
            batch = decode_subscription(event)
        except PayloadError as exc:
            problems.add(exc.kind, exc.detail)
            return None, {"events": 0}, None
        summary: dict[str, Any] = {"log_group": batch.log_group, "log_stream": batch.log_stream,
                                   "events": len(batch.events)}
        if batch.is_control:
            return batch, {**summary, "control_message": True}, None
        if self.own_log_group and batch.log_group == self.own_log_group:
            return batch, {**summary, "skipped": "the collector's own log group"}, None
        for detail in batch.bad_events:
            problems.add("bad_log_event", detail)
        return batch, summary, self.decode(batch, problems, lookup)

    def _write(self, opened: list[tuple[LogBatch, Decoded]]) -> tuple[WriteResult, list[Quarantined], int, set[str]]:
        """One store write of every opened payload's records, then their log lines, then each payload's lines
        whose invocation another batch holds, in order (ids of those placed); raises when the store fails."""
        spans = [s for _, d in opened for s in d.spans]
        invocations = [r for _, d in opened for r in d.invocations]
        logs = [line for _, d in opened for line in d.logs]
        # A store that keeps log lines with their invocation's record takes them in the same write.
        together = logs if (spans or invocations) and getattr(self.store, "logs_with_records", False) else []
        try:
            result, quarantined = (write_isolating(self.store, spans, invocations, together)
                                   if spans or invocations else (WriteResult(0, 0), []))
            logs_written = len(together) if together else self.store.write_logs(logs) if logs else 0
            placed = [line for batch, decoded in opened for line in self._across_batches(batch, decoded)]
            logs_written += self.store.write_logs(placed) if placed else 0
        except Exception as exc:
            self.parts.rollback()
            # The reason travels in the line itself: a metric filter or a log search finds the cause, not
            # only the fact (the runtime's traceback line is separate and shaped differently).
            for batch, decoded in opened:
                log_line("store_write_failed", log_group=batch.log_group, log_stream=batch.log_stream,
                         spans=len(decoded.spans), invocations=len(decoded.invocations),
                         error=f"{type(exc).__name__}: {exc}")
            raise
        return result, quarantined, logs_written, {line.event_id for line in placed}

    @staticmethod
    def _quarantined(quarantined: list[Quarantined], opened: list[tuple[LogBatch, Decoded]],
                     problems: Problems) -> None:
        """Count and log each record the store refused, with the log group and stream it came from."""
        if not quarantined:
            return
        owner = {id(r): batch for batch, decoded in opened for r in (*decoded.spans, *decoded.invocations)}
        for item in quarantined:
            batch = owner[id(item.record)]
            problems.add("unstorable", f"{item.where()}: {item.error}")
            log_line("quarantined", log_group=batch.log_group, log_stream=batch.log_stream, **item.where(),
                     error=item.error)

    def decode(self, batch: LogBatch, problems: Problems, lookup: Lookup | None = None) -> Decoded:
        """The batch's records; pure apart from the part buffer and the failure-join lookup."""
        decoded = Decoded()
        function = function_of(batch.log_group)
        platform_lines: list[platform.PlatformLine] = []  # all but START/END (`platform.bound`)
        started: dict[str, int] = {}  # request id -> when its START was logged
        stream: list[applog.AppLine | applog.Mark] = []  # application lines and platform marks, in order
        app_lines = 0  # of the stream
        # once per log line: the names it uses, bound once per batch
        parse, bound, mark, mark_of, to_stream, to_platform = (platform.parse, platform.bound, applog.Mark,
                                                               _MARKS.get, stream.append, platform_lines.append)
        for event in batch.events:
            message = event.message
            # most lines are platform or application output: `span_text` only where one may be
            text = (span_text(message) if message.startswith("HOPTRACE")
                    or message.find("\tHOPTRACE", 0, _PREFIX_SEARCH) >= 0 else None)
            if text is not None:
                if text.startswith(wire.PART_PREFIX):
                    text = self._join(text, batch, problems)
                    if text is None:
                        continue
                if batch.surrogates:
                    text = clean_json_escapes(text)
                self._span_line(text, batch, function, decoded, problems)
            elif not message.startswith(LOG_PREFIX):
                time_ns = event.timestamp_ms * 1_000_000
                kind, request_id = bound(message) or _NO_BOUND
                if request_id is not None:  # START / END: a mark, nothing more
                    to_stream(mark(kind, request_id, time_ns, event.id))
                    if kind == "start":
                        started[request_id] = time_ns
                    continue
                line = parse(message, time_ns)
                if line is None and message.startswith("{"):
                    parsed = jsonlog.parse(message, time_ns)
                    if isinstance(parsed, jsonlog.AppRecord):
                        to_stream(applog.AppLine(time_ns, event.id, parsed.message, parsed.level,
                                                     parsed.request_id, parsed.trace_id, parsed.span_id))
                        app_lines += 1
                        continue
                    if parsed is jsonlog.IGNORED:
                        continue
                    line = parsed if isinstance(parsed, platform.PlatformLine) else None
                if line is not None:
                    to_platform(line)
                    to_stream(mark(mark_of(line.kind, "other"), line.request_id, time_ns, event.id))
                    if line.kind == "start":
                        started[line.request_id] = time_ns
                else:
                    app_line = applog.parse_text(message, time_ns, event.id)
                    if app_line is not None:
                        stream.append(app_line)
                        app_lines += 1
        if stream:
            self._logs(stream, function, batch, decoded, app_lines > 0)
        for part_id, origin, seen, total in self.parts.expire():
            problems.add("incomplete_part", f"span line {part_id} from {origin.log_group} {origin.log_stream}: "
                         f"{seen} of {total} pieces arrived")
        if platform_lines:
            self._platform(platform_lines, started, function, batch, decoded, lookup or self.lookup)
        return decoded

    def _logs(self, stream: list[applog.AppLine | applog.Mark], function: str, batch: LogBatch,
              decoded: Decoded, any_app_lines: bool = True) -> None:
        decoded.stream_state = applog.state_after(stream, batch.log_group, batch.log_stream)
        if not any_app_lines:  # marks only: no line to attribute, redact or store
            return
        # lines alone: their invocation opened in an earlier batch, maybe in another sandbox (ingest/openstream.py)
        alone = applog.needs_open_request(stream)
        pairs, _, unattributed = applog.attribute(stream, PENDING if alone else None)
        lines, decoded.logs_dropped = applog.to_log_lines(pairs, function, batch.log_stream, self.log_limits,
                                                          self.redacted_keys)
        decoded.logs = [line for line in lines if line.request_id != PENDING]
        decoded.pending = [line for line in lines if line.request_id == PENDING]
        decoded.logs_unattributed = unattributed

    def _across_batches(self, batch: LogBatch, decoded: Decoded) -> list[LogLine]:
        """Lines whose invocation another batch holds: this batch's lines alone, or the pending lines the
        invocation it leaves open claims. Written after the batch's own lines; a failure retries it all."""
        placed = openstream.place_alone(self.store, batch.log_group, decoded.pending) if decoded.pending else []
        if decoded.stream_state is not None:
            placed += openstream.claim_pending(self.store, decoded.stream_state)
        return placed

    def _join(self, text: str, batch: LogBatch, problems: Problems) -> str | None:
        try:
            return self.parts.feed(text, batch.log_group, batch.log_stream)
        except wire.WireError as exc:
            problems.add("bad_part", str(exc))
            return None

    def _span_line(self, text: str, batch: LogBatch, function: str, decoded: Decoded, problems: Problems) -> None:
        try:
            text = wire.plain(text)  # a compressed line inflated: its JSON's length bounds its strings below
            resource, spans = wire.decode_envelope(text, loads)
        except wire.WireError as exc:
            problems.add(_wire_kind(str(exc)), str(exc))
            return
        except RecursionError:
            problems.add("too_deep", f"span line of {len(text)} chars nests deeper than the JSON decoder goes")
            return
        decoded.span_lines += 1
        limits = self.limits
        resource, service, span_function = self._shared(resource, batch, function, problems)
        decoded.spans += layer_records(spans, resource, service, span_function, limits, problems,
                                       len(text) <= limits.max_attribute_chars)

    def _shared(self, resource: dict[str, Any], batch: LogBatch, function: str,
                problems: Problems) -> tuple[dict[str, Any], str, str]:
        """The line's resource as stored, with what the log group and stream say filled in (the layer leaves
        that out, hoptrace.wire), and its (service, function). Every line of a function instance carries the
        same one, so a resource found clean is remembered (bounded, keyed by its log group, stream and exact
        JSON as the line carries it) and later lines share its dict: it is neither completed nor cleaned
        again, nor rendered by the store more than once per write. One that needed cleaning is cleaned,
        and its problems counted, on every line that carries it."""
        key = (batch.log_group, batch.log_stream, dumps(resource))
        known = self._resources.get(key)
        if known is not None:
            return known
        full = wire.full_resource(resource, batch.log_group, batch.log_stream)
        shared = clean_attributes(full, self.limits, problems)
        found = (shared, *names(shared, function))
        if shared is full:
            if len(self._resources) >= _SHARED_RESOURCES:
                self._resources.clear()
            self._resources[key] = found
        return found

    def _platform(self, lines: list[platform.PlatformLine], started: dict[str, int], function: str,
                  batch: LogBatch, decoded: Decoded, lookup: Lookup) -> None:
        invocation_spans = {s.request_id: s for s in decoded.spans
                            if s.function == function and s.request_id and is_invocation_span(s) and not s.pending}
        pending = {s.request_id: s for s in decoded.spans if s.function == function and s.request_id and s.pending}
        traces = {rid: s.trace_id for spans in (pending, invocation_spans) for rid, s in spans.items()}
        for request_id, record in platform.invocations(lines, function, batch.log_group, batch.log_stream,
                                                       traces).items():
            if record.outcome in PLATFORM_FAILURES:
                known = invocation_spans.get(request_id) or pending.get(request_id) or lookup(function, request_id)
                span = failure_span(record, known, started.get(request_id))
                decoded.spans.append(span)
                decoded.failures += 1
                if record.trace_id != span.trace_id:
                    record = replace(record, trace_id=span.trace_id)
            decoded.invocations.append(record)

    @staticmethod
    def _finish(summary: dict[str, Any], problems: Problems, log_group: str, log_stream: str) -> dict[str, Any]:
        if problems:
            summary["problems"] = problems.as_dict()
            log_line("problems", log_group=log_group, log_stream=log_stream, problems=problems.as_dict(),
                     samples=problems.samples)
        return summary


_MARKS = {"start": "start", "end": "end", "report": "end"}
_NO_BOUND: tuple[str, str | None] = ("", None)  # `platform.bound` of a line that is neither START nor END


def _wire_kind(message: str) -> str:
    """A countable kind for a `wire.decode` error (its messages are the layer's, see hoptrace.wire)."""
    if "unknown wire version" in message:
        return "unknown_version"
    if "not valid JSON" in message:
        return "bad_span_json"
    if message.startswith("compressed span line"):
        return "bad_compressed_line"
    return "bad_span_line"


def _counts(decoded: Decoded, result: WriteResult) -> dict[str, int]:
    return {"span_lines": decoded.span_lines, "spans": len(decoded.spans), "spans_written": result.spans_written,
            "spans_unchanged": result.spans_unchanged, "invocations": len(decoded.invocations),
            "invocations_written": result.invocations_written, "platform_failures": decoded.failures}


def _batch_lookup(seen: dict[tuple[str, str], SpanRecord], stored: Lookup) -> Lookup:
    """The failure join across the payloads of one `ingest_many`: spans decoded earlier are not stored yet."""

    def lookup(function: str, request_id: str) -> SpanRecord | None:
        return seen.get((function, request_id)) or stored(function, request_id)

    return lookup


def _remember_invocations(spans: list[SpanRecord], seen: dict[tuple[str, str], SpanRecord]) -> None:
    """Invocation spans (a finished one over a `pending` one) a later payload's platform failure may join."""
    for span in spans:
        if span.request_id is not None and (is_invocation_span(span) or span.pending):
            key = (span.function, span.request_id)
            if span.pending and key in seen:
                continue
            seen[key] = span
