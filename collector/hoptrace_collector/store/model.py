"""What a store holds and how it is asked, shared by every backend, the dashboard and alerts.

Records are plain dataclasses so the collector can build them without a database at
hand and the dashboard can turn lists of them into pandas frames in one call
(`pandas.DataFrame(map(dataclasses.asdict, rows))`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SpanSource = Literal["layer", "otlp", "platform", "history"]
#: The largest integer any store column holds (SQLite INTEGER is signed 64-bit): times in ns up to year 2262.
#: JSON and OTLP's fixed64 allow larger numbers, so ingest checks them against this before they reach a store.
MAX_INT64 = 2**63 - 1
Outcome = Literal["ok", "error", "timeout", "crash", "oom"]


@dataclass(slots=True)
class SpanRecord:
    """One span as stored: the wire span flattened with the fields the dashboard filters on.

    Treat it as immutable (build changed copies with `dataclasses.replace`). It is not declared
    frozen only because a frozen dataclass's `__init__` sets each field through
    `object.__setattr__`, which made building a record 4x slower: ingest builds one per span.

    `service` is the resource's `service.name`; `function` is `faas.name` (or the service for
    spans that did not come from Lambda); `request_id` is `faas.invocation_id`; `cold_start`
    is `faas.coldstart`. A `pending` span was written by the layer's timeout watchdog before
    the invocation finished: a later non-pending write of the same span replaces it, never
    the other way round.
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str  # "unset" | "ok" | "error"
    status_message: str = ""
    service: str = ""
    function: str = ""
    request_id: str | None = None
    cold_start: bool = False
    trigger: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)
    source: SpanSource = "layer"
    pending: bool = False

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(slots=True)
class InvocationRecord:
    """One invocation as the Lambda platform reported it (REPORT / timeout / crash lines).

    Treat it as immutable (build changed copies with `dataclasses.replace`), as `SpanRecord`: not
    declared frozen because a frozen dataclass's `__init__` sets each of its 13 fields through
    `object.__setattr__`, which made building one about 4x slower (9 µs against 2 µs here), and
    ingest builds one per invocation (and again per merge).
    """

    request_id: str
    function: str
    time_ns: int  # when the platform line was logged
    outcome: Outcome = "ok"
    duration_ms: float | None = None
    billed_ms: float | None = None
    memory_mb: int | None = None
    max_memory_mb: int | None = None
    init_ms: float | None = None  # present only on cold starts
    message: str = ""
    log_group: str = ""
    log_stream: str = ""
    trace_id: str | None = None  # when known from the layer's spans or the REPORT's XRAY TraceId


@dataclass(frozen=True, slots=True)
class DlqMessage:
    """A message seen in a dead-letter queue, tied back to the trace that produced it."""

    queue: str  # queue name
    message_id: str
    first_seen_ns: int
    receive_count: int = 0
    trace_id: str | None = None
    parent_span_id: str | None = None
    body_preview: str = ""
    source_queue: str | None = None
    error: str = ""  # the error of the last failed processing span, when known


@dataclass(frozen=True, slots=True)
class TraceSummary:
    trace_id: str
    start_ns: int
    end_ns: int
    root_service: str
    root_name: str
    services: tuple[str, ...]
    span_count: int
    error_count: int
    cold_starts: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """Every field narrows the result; None means "any". Times are ns since the epoch."""

    service: str | None = None
    function: str | None = None
    status: Literal["error", "ok"] | None = None  # error: the trace has at least one error span
    cold_start: bool | None = None  # True: the trace has at least one cold-start span
    min_duration_ms: float | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    trace_id: str | None = None
    request_id: str | None = None
    text: str | None = None  # substring of a span name or attribute value, in the newest traces of the range only
    limit: int = 100


@dataclass(frozen=True, slots=True)
class FunctionStats:
    """Aggregates of one function's invocation spans (kind server/consumer with a request id) in one time bucket."""

    function: str
    bucket_start_ns: int
    invocations: int
    errors: int
    cold_starts: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class WriteResult:
    spans_written: int  # new or replaced rows
    spans_unchanged: int  # duplicates of what was already stored (redelivery)
    invocations_written: int = 0
    dlq_written: int = 0
