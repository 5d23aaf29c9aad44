"""Lambda's JSON log format (`LoggingConfig: LogFormat: JSON`): platform events and application records.

With the JSON format Lambda writes its platform lines as records instead of START/END/REPORT text:

    {"time": "...", "type": "platform.start", "record": {"requestId": "...", "version": "$LATEST"}}
    {"time": "...", "type": "platform.runtimeDone", "record": {"requestId": "...", "status": "timeout",
        "metrics": {"durationMs": 3000.0}}}
    {"time": "...", "type": "platform.report", "record": {"requestId": "...", "status": "success",
        "metrics": {"durationMs": 1.2, "billedDurationMs": 2, "memorySizeMB": 128, "maxMemoryUsedMB": 60,
                    "initDurationMs": 230.1}, "errorType": "...", "tracing": {"value": "Root=1-...;..."}}}

and the runtime's `logging` records as `{"timestamp", "level", "message", "logger", "requestId"}`
(with `errorType`/`errorMessage`/`stackTrace` for exceptions). Platform records become the same
`PlatformLine`s the text lines do (REPORT field names included), so one code path turns both into
invocation records: cold starts, timeouts, crashes and out-of-memory deaths work for either format.
Structured loggers that name the request differently (Powertools' `function_request_id`) count too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hoptrace.protocol import is_hex
from hoptrace_collector.ingest.platform import PlatformLine

_REQUEST_KEYS = ("requestId", "function_request_id", "aws_request_id", "request_id")
#: JSON log records of the platform that say nothing about an invocation we store.
_IGNORED = frozenset({"platform.initStart", "platform.initRuntimeDone", "platform.initReport", "platform.extension",
                      "platform.telemetrySubscription", "platform.logsDropped", "platform.restoreStart",
                      "platform.restoreRuntimeDone", "platform.restoreReport"})


@dataclass(frozen=True, slots=True)
class AppRecord:
    """One application record of the JSON format (or any JSON object line a structured logger wrote)."""

    message: str
    level: str
    request_id: str | None
    trace_id: str | None
    span_id: str | None


#: What `parse` returns for a platform record that carries nothing to store (initStart, extension...).
IGNORED = object()


def parse(message: str, time_ns: int) -> PlatformLine | AppRecord | object | None:
    """A PlatformLine, an AppRecord, IGNORED, or None when the line is not a JSON object."""
    if not message.startswith("{"):
        return None
    try:
        record = json.loads(message)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    kind = record.get("type")
    if isinstance(kind, str) and kind.startswith("platform.") and isinstance(record.get("record"), dict):
        return _platform(kind, record["record"], time_ns)
    return _app(record)


def _platform(kind: str, body: dict[str, Any], time_ns: int) -> PlatformLine | object:
    request_id = body.get("requestId")
    if kind in _IGNORED or not isinstance(request_id, str) or not request_id:
        return IGNORED
    status = str(body.get("status", "")).lower()
    metrics = found if isinstance(found := body.get("metrics"), dict) else {}
    if kind == "platform.start":
        return PlatformLine("start", request_id, time_ns)
    if kind == "platform.runtimeDone":
        if status == "timeout":
            seconds = _metric(metrics, "durationMs")
            fields = {} if seconds is None else {"Timeout": f"{seconds / 1000:.2f}"}
            return PlatformLine("timeout", request_id, time_ns, fields, "Task timed out"
                                + (f" after {fields['Timeout']} seconds" if fields else ""))
        return PlatformLine("end", request_id, time_ns)
    if kind == "platform.report":
        return PlatformLine("report", request_id, time_ns, _report_fields(body, metrics, status))
    return IGNORED


def _metric(metrics: dict[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) else None


def _report_fields(body: dict[str, Any], metrics: dict[str, Any], status: str) -> dict[str, str]:
    """The record's figures under the text REPORT's field names (see platform.to_invocation)."""
    fields: dict[str, str] = {}
    for name, key, unit in (("Duration", "durationMs", "ms"), ("Billed Duration", "billedDurationMs", "ms"),
                            ("Memory Size", "memorySizeMB", "MB"), ("Max Memory Used", "maxMemoryUsedMB", "MB"),
                            ("Init Duration", "initDurationMs", "ms")):
        value = _metric(metrics, key)
        if value is not None:
            fields[name] = f"{value} {unit}"
    error_type = body.get("errorType")
    error_type = error_type if isinstance(error_type, str) else ""
    # A handler's own exception is reported as status "error" too; the layer's span already tells it.
    # Only a runtime failure (Runtime.*) or "failure" is a death the layer could not record.
    if status == "timeout":
        fields["Status"] = "timeout"
    elif status == "failure" or (status == "error" and error_type.startswith("Runtime.")):
        fields["Status"] = "error"
        if error_type:
            fields["Error Type"] = error_type
    tracing = body.get("tracing")
    value = tracing.get("value") if isinstance(tracing, dict) else None
    if isinstance(value, str) and "Root=" in value:
        fields["XRAY TraceId"] = value.split("Root=", 1)[1].split(";", 1)[0]
    return fields


def _app(record: dict[str, Any]) -> AppRecord:
    message = record.get("message")
    if isinstance(message, dict) and "errorMessage" in message:  # the runtime's unhandled-exception record
        record = {**message, **{k: v for k, v in record.items() if k != "message"}}
        message = None
    text = message if isinstance(message, str) else ("" if message is None else json.dumps(message, default=str))
    error_type, error_message = record.get("errorType"), record.get("errorMessage")
    if isinstance(error_type, str) and error_type and error_type not in text:
        text = f"{text} ({error_type}: {error_message})" if text else f"{error_type}: {error_message}"
    stack = record.get("stackTrace")
    if isinstance(stack, list) and stack:
        text += "\n" + "".join(str(frame) for frame in stack[:50])
    if not text:
        text = json.dumps(record, default=str)
    level = record.get("level", record.get("levelname", ""))
    request_id = next((record[k] for k in _REQUEST_KEYS if isinstance(record.get(k), str) and record[k]), None)
    return AppRecord(text, level.upper() if isinstance(level, str) else "", request_id,
                     _hex_id(record.get("trace_id"), 32), _hex_id(record.get("span_id"), 16))


def _hex_id(value: Any, length: int) -> str | None:
    return value if isinstance(value, str) and is_hex(value, length) else None
