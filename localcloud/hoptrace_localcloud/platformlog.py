"""The lines the Lambda platform writes around each invocation, in the function's log format.

`LoggingConfig.LogFormat: Text` (the default) gives `START RequestId: …`, `END RequestId: …`,
`REPORT RequestId: …` and `<time> <id> Task timed out after N seconds`; `JSON` gives the records
`platform.initStart`, `platform.start`, `platform.runtimeDone` and `platform.report`, as Lambda
writes them. With JSON, `SystemLogLevel` WARN or higher drops those records (INFO-level on
Lambda), exactly what makes cold starts and timeouts invisible to a collector on AWS.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

#: LoggingConfig level names in Lambda's order (TRACE is below DEBUG).
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


@dataclass(frozen=True)
class LogSettings:
    """A function's `LoggingConfig`: format, and (JSON only) the application and system levels."""

    log_format: str = "Text"
    application_level: str = "INFO"
    system_level: str = "INFO"

    @property
    def json(self) -> bool:
        return self.log_format == "JSON"

    @property
    def platform_lines(self) -> bool:
        """Whether INFO-level platform records are written (always in the text format)."""
        return not self.json or LEVELS.index(self.system_level) <= LEVELS.index("INFO")


def settings_from(config: object) -> tuple[LogSettings, list[str]]:
    """LogSettings from a `LoggingConfig` property, and what in it is not understood."""
    if not isinstance(config, dict):
        return LogSettings(), [] if config is None else [f"LoggingConfig must be a mapping, got {config!r}"]
    problems = []
    log_format = str(config.get("LogFormat", "Text"))
    if log_format not in ("Text", "JSON"):
        problems.append(f"LogFormat {log_format!r} is not Text or JSON; Text used")
        log_format = "Text"
    levels = {}
    for key, default in (("ApplicationLogLevel", "INFO"), ("SystemLogLevel", "INFO")):
        value = str(config.get(key, default)).upper()
        if value not in LEVELS or (key == "SystemLogLevel" and value not in ("DEBUG", "INFO", "WARN")):
            problems.append(f"{key} {value!r} is not one of {', '.join(LEVELS)}; {default} used")
            value = default
        if key in config and log_format != "JSON":
            problems.append(f"{key} applies only with LogFormat JSON (as on Lambda); ignored")
        levels[key] = value
    return LogSettings(log_format, levels["ApplicationLogLevel"], levels["SystemLogLevel"]), problems


def _iso(now: float | None = None) -> str:
    now = time.time() if now is None else now
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def _record(kind: str, record: dict[str, object]) -> str:
    return json.dumps({"time": _iso(), "type": kind, "record": record}, separators=(",", ":"))


class PlatformLog:
    """Formats the platform's lines for one function; None means "nothing is written"."""

    def __init__(self, settings: LogSettings) -> None:
        self.settings = settings

    def init_start(self) -> str | None:
        if not (self.settings.json and self.settings.platform_lines):
            return None  # the text format's INIT_START line carries nothing the collector reads
        return _record("platform.initStart", {"initializationType": "on-demand", "phase": "init"})

    def start(self, request_id: str) -> str | None:
        if not self.settings.json:
            return f"START RequestId: {request_id} Version: $LATEST"
        return _record("platform.start", {"requestId": request_id, "version": "$LATEST"}) \
            if self.settings.platform_lines else None

    def timeout(self, request_id: str, seconds: float) -> str | None:
        """The text format's own timeout line (the JSON format says it in runtimeDone and report)."""
        return None if self.settings.json else f"{_iso()} {request_id} Task timed out after {seconds:.2f} seconds"

    def end(self, request_id: str, status: str, duration_ms: float, error_type: str | None) -> str | None:
        if not self.settings.json:
            return f"END RequestId: {request_id}"
        if not self.settings.platform_lines:
            return None
        record: dict[str, object] = {"requestId": request_id, "status": status,
                                     "metrics": {"durationMs": round(duration_ms, 3), "producedBytes": 0}}
        if error_type:
            record["errorType"] = error_type
        return _record("platform.runtimeDone", record)

    def report(self, request_id: str, status: str, duration_ms: float, memory_mb: int, used_mb: int,
               init_ms: float | None, error_type: str | None) -> str | None:
        billed = max(1, math.ceil(duration_ms))
        if not self.settings.json:
            line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
                    f"Memory Size: {memory_mb} MB\tMax Memory Used: {used_mb} MB")
            if init_ms is not None:
                line += f"\tInit Duration: {init_ms:.2f} ms"
            if status == "timeout":
                line += "\tStatus: timeout"
            elif status == "failure":  # a runtime death; a handler's own error leaves the text REPORT plain
                line += f"\tStatus: error\tError Type: {error_type}"
            return line
        if not self.settings.platform_lines:
            return None
        metrics: dict[str, object] = {"durationMs": round(duration_ms, 3), "billedDurationMs": billed,
                                      "memorySizeMB": memory_mb, "maxMemoryUsedMB": used_mb}
        if init_ms is not None:
            metrics["initDurationMs"] = round(init_ms, 3)
        record: dict[str, object] = {"requestId": request_id, "metrics": metrics,
                                     "status": "error" if status == "failure" else status}
        if error_type:
            record["errorType"] = error_type
        return _record("platform.report", record)
