"""Storing a batch when some of its records cannot be stored: isolate them by halving, store the rest.

`UnstorableError` means the records themselves are at fault (text no encoder takes, a number
past 64 bits, an item past the backend's size limit), so retrying the batch would fail forever
and cost every good span in it. The batch is halved until each failing record stands alone;
those are quarantined (returned, for the caller to count and log with where they came from) and
every other record is stored. Each write is a complete idempotent store write, so the halves may
overlap what an earlier attempt stored. Any other StoreError still propagates: a retry may heal it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from hoptrace_collector.store.base import Store, UnstorableError
from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.model import InvocationRecord, SpanRecord, WriteResult

Record = SpanRecord | InvocationRecord


class TakesLogs(Protocol):
    """A store whose `write` also takes the batch's log lines (its `logs_with_records` is true)."""

    def write(self, spans: Sequence[SpanRecord] = (), invocations: Sequence[InvocationRecord] = (),
              dlq: Sequence[Any] = (), logs: Sequence[LogLine] = ()) -> WriteResult: ...


@dataclass(frozen=True, slots=True)
class Quarantined:
    record: Record
    error: str

    def where(self) -> dict[str, str | None]:
        """The record's identity, for the collector's log line."""
        if isinstance(self.record, SpanRecord):
            return {"trace_id": self.record.trace_id, "span_id": self.record.span_id}
        return {"function": self.record.function, "request_id": self.record.request_id}


def write_isolating(store: Store, spans: Sequence[SpanRecord], invocations: Sequence[InvocationRecord],
                    logs: Sequence[LogLine] = ()) -> tuple[WriteResult, list[Quarantined]]:
    """`store.write(spans, invocations)`, but records that cannot be stored are left out and returned.

    `logs` go with the records in the same write, for a store that takes them there
    (`logs_with_records`: the DynamoDB store keeps an invocation's lines in its request item); when
    that write fails on a bad record, the lines are written on their own and the records isolated.
    """
    try:
        if logs:
            return cast(TakesLogs, store).write(spans, invocations, logs=logs), []
        return store.write(spans, invocations), []
    except UnstorableError as exc:
        first = str(exc)
    if logs:
        store.write_logs(logs)
    records: list[Record] = [*spans, *invocations]
    if len(records) == 1:
        return WriteResult(0, 0), [Quarantined(records[0], first)]
    totals = [0, 0, 0]
    rejected: list[Quarantined] = []
    middle = len(records) // 2
    stack = [records[middle:], records[:middle]]
    while stack:
        part = stack.pop()
        try:
            result = store.write([r for r in part if isinstance(r, SpanRecord)],
                                 [r for r in part if isinstance(r, InvocationRecord)])
        except UnstorableError as exc:
            if len(part) == 1:
                rejected.append(Quarantined(part[0], str(exc)))
            else:
                middle = len(part) // 2
                stack += [part[middle:], part[:middle]]
            continue
        totals[0] += result.spans_written
        totals[1] += result.spans_unchanged
        totals[2] += result.invocations_written
    return WriteResult(*totals), rejected
