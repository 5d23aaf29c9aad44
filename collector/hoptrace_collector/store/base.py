"""The one small interface every span store implements (SQLite, DynamoDB).

The collector writes through it; the dashboard and the alert evaluator read through it.
Queries that could touch many rows (stats, trace lists) are methods here, so each backend
pushes them into its own engine instead of the caller loading the store into memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hoptrace_collector.store.links import LinkKey
from hoptrace_collector.store.loglines import InvocationKey, LogLine
from hoptrace_collector.store.model import (
    DlqMessage,
    FunctionStats,
    InvocationRecord,
    SpanRecord,
    TraceFilter,
    TraceSummary,
    WriteResult,
)
from hoptrace_collector.store.streamstate import Position, StreamState


class StoreError(RuntimeError):
    """The store could not do what was asked (unreachable, locked past the retry budget, bad URL)."""


class UnstorableError(StoreError):
    """Something in the records themselves cannot be stored (text no encoder takes, a number past 64 bits,
    an item past the backend's size limit): retrying the same batch would fail the same way, so the
    collector isolates the records that cause it (ingest.quarantine) and stores the rest."""


class Store(Protocol):
    url: str

    def write(self, spans: Sequence[SpanRecord] = (), invocations: Sequence[InvocationRecord] = (),
              dlq: Sequence[DlqMessage] = ()) -> WriteResult:
        """Store everything or raise StoreError. Idempotent: rewriting the same records changes nothing."""

    def write_logs(self, lines: Sequence[LogLine]) -> int:
        """Store application log lines (idempotent by function, request id and event id); returns lines taken."""

    def write_stream_state(self, state: StreamState) -> None:
        """Where a log stream stands after a batch (see `streamstate`); idempotent by stream and position."""

    def stream_state(self, log_group: str, log_stream: str, position: Position, *,
                     after: bool = False) -> StreamState | None:
        """The stream's last state before `position` (with `after`: its first state after it), or None."""

    def write_pending_lines(self, log_group: str, lines: Sequence[LogLine]) -> None:
        """Lines of one stream whose invocation is not known yet (request id ""); idempotent by position."""

    def pending_lines(self, log_group: str, log_stream: str, after: Position,
                      until: Position | None) -> list[LogLine]:
        """The stream's pending lines strictly between two positions (`until` None: no upper bound)."""

    def invocation_logs(self, keys: Sequence[InvocationKey]) -> list[LogLine]:
        """The log lines of these (function, request id) invocations, in time order."""

    def get_trace(self, trace_id: str) -> list[SpanRecord]:
        """Every span of the trace, ordered by start time."""

    def list_traces(self, flt: TraceFilter) -> list[TraceSummary]:
        """Newest first."""

    def spans(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
              errors_only: bool = False, cold_starts_only: bool = False, limit: int = 1000) -> list[SpanRecord]:
        """Newest first; with `cold_starts_only` / `errors_only` this is the cold-start / failures query."""

    def invocations(self, *, function: str | None = None, since_ns: int | None = None, until_ns: int | None = None,
                    outcomes: Sequence[str] | None = None, limit: int = 1000) -> list[InvocationRecord]:
        """Newest first."""

    def dlq_messages(self, *, queue: str | None = None, limit: int = 1000) -> list[DlqMessage]:
        """Newest first."""

    def function_stats(self, *, since_ns: int, until_ns: int, bucket_s: int = 60,
                       function: str | None = None) -> list[FunctionStats]:
        """One row per function and bucket with at least one invocation."""

    def functions(self) -> list[str]:
        """Every function (or service) that has spans."""

    def link_rows(self, keys: Sequence[str]) -> list[LinkKey]:
        """Both sides (producer and consumer rows) of each link key; see `store.links`."""

    def delete_older_than(self, cutoff_ns: int) -> int:
        """Retention: remove everything that started before the cutoff; returns rows removed."""

    def close(self) -> None: ...
