"""An invocation's application log lines: what they say, and which invocation they belong to.

Attribution is exact, never guessed from time:

- a line that names its request says so — the Python runtime's `logging` text format
  `[LEVEL]\\t<time>\\t<request id>\\t<message>`, the `<time>\\t<request id>\\t<LEVEL>\\t<message>` format
  of other runtimes, and a JSON record's `requestId` (see jsonlog.py);
- any other line (`print`, a traceback, a library writing to stderr) belongs to the invocation
  whose `START` (or `platform.start`) precedes it in the same log stream, until its `END` / report.
  One stream serves one execution environment, one invocation at a time, so positions are
  per stream; a subscription batch holds one stream. The invocation still open at the end of a
  batch is kept in the store (`state_after`), and a batch of lines alone meets it there
  (ingest/openstream.py), whichever collector sandboxes take the two batches. Lines before
  a batch's first `END` with no open invocation belong to that `END`'s request (the batch began
  mid-invocation); lines before a `START` with none open (the init phase) go to that `START`'s
  invocation, the cold start they delayed.

Every message is redacted (hoptrace.redaction, the same rules as spans) and bounded: at most
`LogLimits.max_lines` lines per invocation and batch (then one line says how many were not kept)
and `max_chars` characters per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hoptrace_collector.ingest.redact_log import redact_message
from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.streamstate import StreamState

_PYTHON = re.compile(r"\[([A-Z]+)\]\t(\d{4}-\d\d-\d\dT[\d:.]+Z?)\t([^\t]*)\t(.*)", re.DOTALL)
_OTHER_RUNTIMES = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+Z?)\t([0-9a-f-]{36})\t([A-Z]+)\t(.*)", re.DOTALL)
_RUNTIME_ERROR = re.compile(r"\[(ERROR|WARNING|CRITICAL|FATAL)\] (.*)", re.DOTALL)  # unhandled exceptions
#: Platform lines that are neither a START/END/REPORT nor an application's output.
_PLATFORM_PREFIXES = ("INIT_START", "INIT_REPORT", "INIT_RUNTIME_DONE", "EXTENSION\t", "EXTENSION ", "TELEMETRY\t",
                      "RESTORE_START", "RESTORE_REPORT", "LOGS\t")


@dataclass(frozen=True)
class LogLimits:
    max_lines: int = 200
    max_chars: int = 8192


DEFAULT_LOG_LIMITS = LogLimits()


@dataclass(frozen=True, slots=True)
class AppLine:
    time_ns: int
    event_id: str
    message: str
    level: str = ""
    request_id: str | None = None  # when the line names its request
    trace_id: str | None = None
    span_id: str | None = None


@dataclass(slots=True)
class Mark:
    """A platform line's place in the stream: `start` opens an invocation, `end` closes it. Treat as
    immutable; not frozen, as `PlatformLine` is not: one is built per platform line."""

    kind: str  # start | end | other (timeout, crash: inside the invocation, before its END)
    request_id: str
    time_ns: int = 0
    event_id: str = ""


def parse_text(message: str, time_ns: int, event_id: str) -> AppLine | None:
    """A text-format line (None for the platform's own lines that are not START/END/REPORT)."""
    if message.startswith(_PLATFORM_PREFIXES):
        return None
    # Lambda's runtimes join a multi-line message with \r (one log event): show it as lines again.
    message = message.rstrip("\r\n").replace("\r", "\n")
    match = _PYTHON.match(message)
    if match:
        return AppLine(time_ns, event_id, match.group(4), match.group(1), match.group(3) or None)
    match = _OTHER_RUNTIMES.match(message)
    if match:
        return AppLine(time_ns, event_id, match.group(4), match.group(3), match.group(2))
    match = _RUNTIME_ERROR.match(message)
    if match:
        return AppLine(time_ns, event_id, match.group(2), match.group(1))
    return AppLine(time_ns, event_id, message)


def attribute(items: Iterable[AppLine | Mark], open_request: str | None) -> tuple[list[tuple[str, AppLine]], str | None,
                                                                               int]:
    """(request id, line) pairs in stream order, the request still open at the end, lines left unattributed."""
    out: list[tuple[str, AppLine]] = []
    current = open_request
    waiting: list[AppLine] = []
    for item in items:
        if isinstance(item, Mark):
            if item.kind == "start":
                out.extend((item.request_id, line) for line in waiting)
                waiting, current = [], item.request_id
            else:
                if current is None:
                    out.extend((item.request_id, line) for line in waiting)
                waiting = []
                if item.kind == "end":
                    current = None
        elif item.request_id:
            out.append((item.request_id, item))
        elif current is not None:
            out.append((current, item))
        else:
            waiting.append(item)
    return out, current, len(waiting)


def needs_open_request(items: list[AppLine | Mark]) -> bool:
    """Only a batch of lines with no START / END at all needs the invocation an earlier batch opened
    (ingest/openstream.py): any other line is placed by the marks around it (module docstring)."""
    return any(isinstance(item, AppLine) and not item.request_id for item in items) and not any(
        isinstance(item, Mark) and item.kind != "other" for item in items)


def state_after(items: list[AppLine | Mark], log_group: str, log_stream: str) -> StreamState | None:
    """The stream state this batch leaves, when the store must hear of it: an invocation still open at
    its end, or the END of one opened in an earlier batch (whose stored state must be closed).
    A batch whose invocations all start and end inside it changes nothing stored: no write."""
    started: set[str] = set()
    last: Mark | None = None
    closes_earlier = False
    for item in items:
        if isinstance(item, Mark) and item.kind != "other":
            last = item
            if item.kind == "start":
                started.add(item.request_id)
            elif item.request_id not in started:
                closes_earlier = True
    if last is None or (last.kind != "start" and not closes_earlier):
        return None
    return StreamState(log_group, log_stream, last.request_id if last.kind == "start" else None, last.time_ns,
                       last.event_id)


def _encodable(text: str) -> str:
    """Lone surrogates (a JSON escape like "\\udcff") cannot be stored as UTF-8: replaced, not fatal."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def to_log_lines(pairs: list[tuple[str, AppLine]], function: str, log_stream: str, limits: LogLimits,
                 keys: frozenset[str]) -> tuple[list[LogLine], int]:
    """Redacted, bounded records; returns them and how many lines the bound dropped."""
    counts: dict[str, int] = {}
    dropped: dict[str, tuple[int, AppLine]] = {}
    out: list[LogLine] = []
    for request_id, line in pairs:
        seen = counts.get(request_id, 0)
        counts[request_id] = seen + 1
        if seen >= limits.max_lines:
            first = dropped.get(request_id)
            dropped[request_id] = (first[0] + 1, first[1]) if first else (1, line)
            continue
        message = redact_message(_encodable(line.message), keys)
        if len(message) > limits.max_chars:
            message = message[:limits.max_chars] + f"…[truncated {len(message) - limits.max_chars} chars]"
        out.append(LogLine(function, request_id, line.time_ns, line.event_id, message, line.level, log_stream,
                           line.trace_id, line.span_id))
    for request_id, (count, kept) in dropped.items():
        out.append(LogLine(function, request_id, kept.time_ns, kept.event_id,
                           f"[hoptrace] {count} more log lines of this invocation were not kept "
                           f"(HOPTRACE_MAX_LOG_LINES={limits.max_lines})", "WARNING", log_stream))
    return out, sum(count for count, _ in dropped.values())
