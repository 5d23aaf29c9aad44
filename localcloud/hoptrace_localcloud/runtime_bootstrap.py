"""The Lambda Python runtime of one worker process: init the handler, then serve invocations.

It runs as a script in a fresh interpreter (`python -u -P runtime_bootstrap.py`, possibly behind
AWS_LAMBDA_EXEC_WRAPPER) and imports nothing from hoptrace_localcloud, so a cold start costs what it
costs on Lambda. Invocations arrive as JSON lines on one inherited fd and results leave on another;
stdout/stderr stay the function's own log. After each invocation a record separator line (0x1E + id)
on stdout tells the parent that every log line of that invocation has been written.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback

TYPE_CHECKING = False  # not typing's: a Lambda runtime does not import typing, so neither does this one
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

SENTINEL = "\x1e"


class ClientContext:
    """`context.client_context` as the Lambda runtime builds it from the Invoke ClientContext."""

    def __init__(self, raw: dict) -> None:
        self.custom = raw.get("custom")
        self.env = raw.get("env")
        self.client = raw.get("client")


class CognitoIdentity:
    def __init__(self, raw: dict) -> None:
        self.cognito_identity_id = raw.get("cognitoIdentityId")
        self.cognito_identity_pool_id = raw.get("cognitoIdentityPoolId")


class LambdaContext:
    """The attributes and method real libraries read from Lambda's context object."""

    def __init__(self, request: dict) -> None:
        self.aws_request_id = request["id"]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["arn"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.client_context = ClientContext(request["client_context"]) if request.get("client_context") else None
        self.identity = CognitoIdentity(request.get("identity") or {})
        self.tenant_id = None
        self._deadline_ms = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


#: LoggingConfig.ApplicationLogLevel → Python level (Lambda's TRACE is below DEBUG, FATAL is CRITICAL).
_LEVELS = {"TRACE": 5, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
           "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime",
                                                                                         "aws_request_id"}


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}Z"


class _JsonFormatter(logging.Formatter):
    """The JSON log format's application record, as the Lambda Python runtime writes it."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"timestamp": _iso(record.created), "level": record.levelname, "message": record.getMessage(),
               "logger": record.name, "requestId": getattr(record, "aws_request_id", "")}
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            out.update(errorType=type(error).__name__, errorMessage=str(error),
                       stackTrace=traceback.format_list(traceback.extract_tb(error.__traceback__)))
        out.update((k, v) for k, v in record.__dict__.items() if k not in _RECORD_FIELDS and k not in out)
        return json.dumps(out, default=str, ensure_ascii=False)


def _install_lambda_logging(json_format: bool, level: str) -> _RequestIdFilter:
    """Root logger handler with the Lambda runtime's line format.

    Text: `[LEVEL]\t<time>\t<request id>\t<message>`, level WARNING until the user changes it. JSON
    (`AWS_LAMBDA_LOG_FORMAT=JSON`): one JSON record per line, the level from `AWS_LAMBDA_LOG_LEVEL`.
    """
    handler = logging.StreamHandler(sys.stdout)
    if json_format:
        formatter: logging.Formatter = _JsonFormatter()
        logging.getLogger().setLevel(_LEVELS.get(level, logging.INFO))
    else:
        formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                                      "%Y-%m-%dT%H:%M:%S")
        formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


def _unhandled(error: dict, request_id: str, json_format: bool) -> str:
    """What the runtime logs for an exception the handler let out (stderr)."""
    if json_format:
        return json.dumps({"timestamp": _iso(time.time()), "level": "ERROR", "errorType": error["errorType"],
                           "errorMessage": error["errorMessage"], "requestId": request_id,
                           "stackTrace": error["stackTrace"]}, default=str)
    trace = "".join(error["stackTrace"]).replace("\n", "\r").rstrip("\r")
    return f"[ERROR] {error['errorType']}: {error['errorMessage']}\rTraceback (most recent call last):\r{trace}"


def _error(exc: BaseException, error_type: str | None = None) -> dict:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
    }


def _load_handler(spec: str) -> Callable[..., Any]:
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        raise ValueError(f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    try:
        module = importlib.import_module(module_path.replace("/", "."))
    except ImportError as exc:
        raise ImportError(f"Unable to import module '{module_path}': {exc}") from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_path}'")
    return handler


def _max_memory_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _finish(stream: TextIO, message: dict[str, Any], request_id: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, f"{SENTINEL}{request_id}\n".encode())
    stream.write(json.dumps(message, default=str) + "\n")
    stream.flush()


def main() -> None:
    read_fd, write_fd = (int(fd) for fd in os.environ.pop("_HOPTRACE_LOCAL_FDS").split(","))
    requests = os.fdopen(read_fd, "r", encoding="utf-8")
    results = os.fdopen(write_fd, "w", encoding="utf-8")
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    json_format = os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON"
    request_filter = _install_lambda_logging(json_format, os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO"))
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        error_type = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
        if isinstance(exc, ValueError):
            error_type = "Runtime.MalformedHandlerName"
        print(f"[ERROR] {error_type}: {exc}", file=sys.stderr, flush=True)
        results.write(json.dumps({"type": "init_error", "error": _error(exc, error_type)}) + "\n")
        results.flush()
        return
    results.write(json.dumps({"type": "ready"}) + "\n")
    results.flush()
    for line in requests:
        request = json.loads(line)
        os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
        request_filter.request_id = request["id"]
        message: dict = {"type": "result", "id": request["id"]}
        try:
            payload = handler(request["event"], LambdaContext(request))
        except Exception as exc:
            message["error"] = _error(exc)
            print(_unhandled(message["error"], request["id"], json_format), file=sys.stderr)
        else:
            try:
                message["payload"] = json.loads(json.dumps(payload))
            except (TypeError, ValueError) as exc:
                message["error"] = _error(exc, "Runtime.MarshalError")
                print(f"[ERROR] Runtime.MarshalError: Unable to marshal response: {exc}", file=sys.stderr)
        message["max_memory_mb"] = _max_memory_mb()
        _finish(results, message, request["id"])


if __name__ == "__main__":
    main()
