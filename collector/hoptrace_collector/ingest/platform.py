"""The lines the Lambda platform writes around each invocation, and what they say about it.

AWS (and the local cloud, which copies it) write:

    START RequestId: <id> Version: $LATEST
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
        Max Memory Used: 50 MB\tInit Duration: 100.00 ms          (Init Duration: cold starts only)
        [\tXRAY TraceId: 1-5759e988-bd86…\tSegmentId: …\tSampled: true]   (active tracing)
        [\tStatus: timeout | Status: error\tError Type: Runtime.ExitError | Runtime.OutOfMemory]
    2024-01-01T00:00:00.000Z <id> Task timed out after 3.00 seconds
    RequestId: <id> Error: Runtime exited with error: signal: killed    (then "Runtime.ExitError")
    RequestId: <id> Process exited before completing request            (older runtimes)

Out of memory: AWS reports `signal: killed` with Max Memory Used equal to Memory Size, or
(newer) `Error Type: Runtime.OutOfMemory`. The local cloud writes the timeout line, and a
REPORT with `Status: timeout`; it does not log runtime crashes (they only reach the caller).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from hoptrace.propagation import parse_xray
from hoptrace_collector.store.model import MAX_INT64, InvocationRecord, Outcome
from hoptrace_collector.store.rules import merge_invocation

_START = re.compile(r"START RequestId: (\S+)")
_END = re.compile(r"END RequestId: (\S+)")
_REPORT = re.compile(r"REPORT RequestId: (\S+)\s*(.*)", re.DOTALL)
_TIMEOUT = re.compile(r"(?:\S+\s+)?(\S+)\s+Task timed out after ([\d.]+) seconds")
_CRASH = re.compile(r"RequestId: (\S+) (?:Error: (.+)|(Process exited before completing request))")
_FIELD_SPLIT = re.compile(r"\t+| {2,}")
# A REPORT exactly as Lambda writes it for an invocation that ended well, without active tracing: what
# `_report_fields` and `_report` read from it, taken in one match (every figure at most 15 digits, so
# each float and int below is the one `_number` and `_whole` give). Any other REPORT takes the long way.
_PLAIN_REPORT = re.compile(r"REPORT RequestId: (\S+)\tDuration: ([0-9]{1,15}(?:\.[0-9]{1,9})?) ms\t"
                           r"Billed Duration: ([0-9]{1,15}) ms\tMemory Size: ([0-9]{1,15}) MB\t"
                           r"Max Memory Used: ([0-9]{1,15}) MB\t(?:Init Duration: ([0-9]{1,15}(?:\.[0-9]{1,9})?) ms\t)?"
                           r"[\t ]*[\r\n]*")


@dataclass(slots=True)
class PlatformLine:
    """Treat as immutable; not declared frozen because a frozen dataclass's `__init__` sets each field through
    `object.__setattr__`, and ingest builds one per platform line (three per invocation)."""

    kind: str  # start | end | report | timeout | crash
    request_id: str
    time_ns: int
    fields: dict[str, str] | None = None  # REPORT fields by name
    message: str = ""
    #: A plain REPORT's figures, already read (`_PLAIN_REPORT`): duration, billed, memory, max memory, init.
    figures: tuple[float, float, int, int, float | None] | None = None


_BOUNDS = {"START ": ("start", _START.match), "END Re": ("end", _END.match)}


def bound(message: str) -> tuple[str, str | None] | None:
    """("start" | "end", request id) for a START or END line, with None for the id when the line only
    begins like one (it is then no platform line at all); None for any other line. Two of every three
    platform lines are these, and they say nothing stored but where an invocation begins and ends, so
    ingest takes them this way, without a `PlatformLine`."""
    found = _BOUNDS.get(message[:6])
    if found is None:
        return None
    match = found[1](message)
    return found[0], match.group(1) if match else None


def parse(message: str, time_ns: int) -> PlatformLine | None:
    """The platform line `message` is, or None for anything else (user output, span lines)."""
    bounds = bound(message)
    if bounds is not None:
        return None if bounds[1] is None else PlatformLine(bounds[0], bounds[1], time_ns)
    head = message[:6]
    if head == "REPORT":
        plain = _PLAIN_REPORT.fullmatch(message)
        if plain is not None:
            rid, duration, billed, memory, used, init = plain.groups()
            return PlatformLine("report", rid, time_ns, None, "", (
                float(duration), float(billed), int(memory), int(used), None if init is None else float(init)))
        match = _REPORT.match(message)
        if match is None:
            return None
        return PlatformLine("report", match.group(1), time_ns, _report_fields(match.group(2)))
    if "Task timed out after" in message[:200]:
        match = _TIMEOUT.match(message.strip())
        if match:
            return PlatformLine("timeout", match.group(1), time_ns, {"Timeout": match.group(2)},
                                f"Task timed out after {match.group(2)} seconds")
    if "exited" in message[:300]:
        match = _CRASH.search(message)
        if match:
            return PlatformLine("crash", match.group(1), time_ns, None, (match.group(2) or match.group(3)).strip())
    return None


def _report_fields(text: str) -> dict[str, str]:
    fields = {}
    for part in _FIELD_SPLIT.split(text.strip()):
        name, sep, value = part.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _number(fields: dict[str, str], name: str) -> float | None:
    """A REPORT figure; None when missing or not a finite number (`inf`/`nan` parse as floats but mean nothing)."""
    try:
        value = float(fields[name].split()[0])
    except (KeyError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


def _whole(value: float | None) -> int | None:
    return None if value is None or abs(value) > MAX_INT64 else int(value)


def xray_trace_id(fields: dict[str, str]) -> str | None:
    """The REPORT's `XRAY TraceId: 1-8hex-24hex` as a 32-hex trace id."""
    root = fields.get("XRAY TraceId")
    carried, _problem = parse_xray(f"Root={root}") if root else (None, None)
    return f"{carried.trace_id:032x}" if carried else None


class _Where(TypedDict):
    """Which invocation a platform line is about: the fields every record from one line shares."""

    request_id: str
    function: str
    time_ns: int
    log_group: str
    log_stream: str


_SAYING = frozenset({"timeout", "crash"})  # with "report": the lines that say something about an invocation
_TELLING = _SAYING | {"report"}


def to_invocation(line: PlatformLine, function: str, log_group: str, log_stream: str,
                  trace_id: str | None = None) -> InvocationRecord | None:
    """What one line says about its invocation (START/END say nothing we store); `trace_id` if known."""
    if line.kind == "report":
        return _report(line, function, log_group, log_stream, trace_id)
    if line.kind not in _SAYING:
        return None
    common: _Where = {"request_id": line.request_id, "function": function, "time_ns": line.time_ns,
              "log_group": log_group, "log_stream": log_stream}
    if line.kind == "timeout":
        seconds = _number(line.fields or {}, "Timeout")
        return InvocationRecord(**common, outcome="timeout", message=line.message, trace_id=trace_id,
                                duration_ms=None if seconds is None else seconds * 1000)
    if line.kind == "crash":
        return InvocationRecord(**common, outcome="crash", message=line.message, trace_id=trace_id)
    return None


def _report(line: PlatformLine, function: str, log_group: str, log_stream: str,
            trace_id: str | None) -> InvocationRecord:
    figures = line.figures
    if figures is not None:  # a plain REPORT: ok, and no XRAY TraceId (`_PLAIN_REPORT`)
        return InvocationRecord(line.request_id, function, line.time_ns, "ok", *figures, "", log_group, log_stream,
                                trace_id or None)
    fields = line.fields or {}
    outcome: Outcome = "ok"
    message = ""
    status, error_type = fields.get("Status", "").lower(), fields.get("Error Type", "")
    if status == "timeout":
        outcome, message = "timeout", "Status: timeout"
    elif error_type == "Runtime.OutOfMemory":
        outcome, message = "oom", error_type
    elif status == "error":
        outcome, message = "crash", error_type or "Status: error"
    # positional, in field order: one REPORT per invocation, so the cheapest construction
    return InvocationRecord(
        line.request_id, function, line.time_ns, outcome, _number(fields, "Duration"),
        _number(fields, "Billed Duration"), _whole(_number(fields, "Memory Size")),
        _whole(_number(fields, "Max Memory Used")), _number(fields, "Init Duration"), message, log_group,
        log_stream, trace_id or xray_trace_id(fields),
    )


def invocations(lines: Iterable[PlatformLine], function: str, log_group: str, log_stream: str,
                traces: dict[str, str] | None = None) -> dict[str, InvocationRecord]:
    """One merged record per request id: the worst outcome with every figure any line gave.

    `traces` maps request ids to the trace of their spans (known from the same batch).
    """
    merged: dict[str, InvocationRecord] = {}
    traces = traces or {}
    for line in lines:
        if line.kind not in _TELLING:  # START and END (two of every three lines) say nothing stored
            continue
        record = to_invocation(line, function, log_group, log_stream, traces.get(line.request_id))
        if record is not None:
            previous = merged.get(line.request_id)
            merged[line.request_id] = record if previous is None else merge_invocation(previous, record)
    return merged
