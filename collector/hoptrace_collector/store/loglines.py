"""An invocation's application log lines as stored: the record both stores keep, and how it is keyed.

A line belongs to exactly one invocation (function + request id, see ingest/applog.py for how
it is attributed). Its CloudWatch event id is unique and stable across redelivery, so
(function, request id, event id) keys it: a redelivered batch rewrites the same lines and
changes nothing. Lines are read per invocation, in time order (event id breaks ties within a
millisecond, since CloudWatch ids grow in the order lines were ingested).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogLine:
    function: str
    request_id: str
    time_ns: int
    event_id: str
    message: str
    level: str = ""  # ERROR, WARNING, INFO, DEBUG, ... as the line says; "" for `print` output
    log_stream: str = ""
    trace_id: str | None = None  # when the line carries it (JSON records with trace_id, the layer's correlation)
    span_id: str | None = None

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS


#: Levels shown as errors (Python's names, Lambda's JSON format's names, and the runtime's FATAL).
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})

InvocationKey = tuple[str, str]  # (function, request id)


def in_order(lines: list[LogLine]) -> list[LogLine]:
    """Lines in the order they were logged, each event once (a store may hold a line twice after a
    redelivery that attributed it from a different batch boundary)."""
    unique = {(line.function, line.request_id, line.event_id): line for line in lines}
    return sorted(unique.values(), key=lambda line: (line.time_ns, line.event_id))
