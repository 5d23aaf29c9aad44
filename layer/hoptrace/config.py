"""Layer configuration: explicit arguments beat `HOPTRACE_*` variables, which beat the defaults.

`Config(...)` in code is used as given; `Config.from_env(**explicit)` (and `hoptrace.trace(sample_rate=...)`)
layers the arguments given over the environment. `default()` is the environment's configuration,
built on first use and kept: importing this module reads nothing, and the handler wrapper (the hot
path) never parses the environment. Bad values fall back to the default with a warning on stderr
rather than failing the function: a typo in a tracing setting must never take a service down.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hoptrace.envparse import env_bool, env_choice, env_names, env_number
from hoptrace.plain import Frozen

DEFAULT_REDACTED_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"})
DEFAULT_REDACTED_KEYS = frozenset({"password", "secret", "token", "api_key", "apikey", "authorization"})


@dataclass(init=False, repr=False, eq=False)
class Config(Frozen):
    """Every knob of the layer; documented in the README's configuration table.

    A dataclass (`dataclasses.replace` and `fields` work on it), immutable, equal and hashed by its fields,
    with its `__init__` written here rather than compiled by `@dataclass` at import: the generated methods of
    a frozen dataclass of this size cost 2 ms of every cold start (`hoptrace.plain`).
    """

    enabled: bool = True
    service_name: str = "unknown_service"
    sample_rate: float = 1.0
    capture_payload: bool = False
    payload_max_bytes: int = 4096
    max_attribute_length: int = 4096
    redacted_headers: frozenset[str] = DEFAULT_REDACTED_HEADERS
    redacted_keys: frozenset[str] = DEFAULT_REDACTED_KEYS
    redact_allowed: frozenset[str] = frozenset()
    max_output_bytes: int = 1024 * 1024
    otlp_endpoint: str | None = None
    otlp_timeout_s: float = 1.0
    trace_http: bool = True
    timeout_margin_ms: float = 200.0
    log_correlation: bool = True
    engine: str = "light"  # "light" (default, stdlib only) or "otel" (the OpenTelemetry SDK)
    coldstart_imports: bool = False
    compress_lines: bool = False  # span lines deflated (hoptrace.wire_deflate): a third of the log bytes
    gc_freeze: bool = True  # init's objects frozen out of the garbage collector's scans (hoptrace.coldstart)

    def __init__(self, enabled: bool = enabled,
                 service_name: str = service_name,
                 sample_rate: float = sample_rate,
                 capture_payload: bool = capture_payload,
                 payload_max_bytes: int = payload_max_bytes,
                 max_attribute_length: int = max_attribute_length,
                 redacted_headers: frozenset[str] = redacted_headers,
                 redacted_keys: frozenset[str] = redacted_keys,
                 redact_allowed: frozenset[str] = redact_allowed,
                 max_output_bytes: int = max_output_bytes,
                 otlp_endpoint: str | None = otlp_endpoint,
                 otlp_timeout_s: float = otlp_timeout_s,
                 trace_http: bool = trace_http,
                 timeout_margin_ms: float = timeout_margin_ms,
                 log_correlation: bool = log_correlation,
                 engine: str = engine,
                 coldstart_imports: bool = coldstart_imports,
                 compress_lines: bool = compress_lines,
                 gc_freeze: bool = gc_freeze) -> None:
        self._assign(locals())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **explicit: Any) -> Config:
        """The environment's settings, with the `explicit` arguments (field names) over them."""
        if explicit:
            return dataclasses.replace(cls.from_env(env), **explicit)
        env = os.environ if env is None else env
        service = env.get("HOPTRACE_SERVICE_NAME") or env.get("OTEL_SERVICE_NAME") or env.get(
            "AWS_LAMBDA_FUNCTION_NAME", "unknown_service"
        )
        return cls(
            enabled=not env_bool(env, "HOPTRACE_DISABLED", False),
            service_name=service,
            sample_rate=env_number(env, "HOPTRACE_SAMPLE_RATE", 1.0, 0.0, 1.0),
            capture_payload=env_bool(env, "HOPTRACE_CAPTURE_PAYLOAD", False),
            payload_max_bytes=int(env_number(env, "HOPTRACE_PAYLOAD_MAX_BYTES", 4096, 0, 65536)),
            max_attribute_length=int(env_number(env, "HOPTRACE_MAX_ATTRIBUTE_LENGTH", 4096, 64, 65536)),
            redacted_headers=DEFAULT_REDACTED_HEADERS | env_names(env, "HOPTRACE_REDACT_HEADERS"),
            redacted_keys=DEFAULT_REDACTED_KEYS | env_names(env, "HOPTRACE_REDACT_KEYS"),
            redact_allowed=env_names(env, "HOPTRACE_REDACT_ALLOW"),
            max_output_bytes=int(env_number(env, "HOPTRACE_MAX_OUTPUT_BYTES", 2**20, 2**16, 2**25)),
            otlp_endpoint=env.get("HOPTRACE_OTLP_ENDPOINT") or None,
            otlp_timeout_s=env_number(env, "HOPTRACE_OTLP_TIMEOUT", 1.0, 0.05, 30.0),
            trace_http=env_bool(env, "HOPTRACE_TRACE_HTTP", True),
            timeout_margin_ms=env_number(env, "HOPTRACE_TIMEOUT_MARGIN_MS", 200.0, 0.0, 10_000.0),
            log_correlation=env_bool(env, "HOPTRACE_LOG_CORRELATION", True),
            engine=env_choice(env, "HOPTRACE_ENGINE", "light", ("light", "otel")),
            coldstart_imports=env_bool(env, "HOPTRACE_COLDSTART_IMPORTS", False),
            compress_lines=env_bool(env, "HOPTRACE_COMPRESS_LINES", False),
            gc_freeze=env_bool(env, "HOPTRACE_GC_FREEZE", True),
        )


Config._fields = tuple(field.name for field in dataclasses.fields(Config))


@functools.cache
def default() -> Config:
    """The configuration the environment gives, read on first use (not at import) and kept."""
    return Config.from_env()


def __getattr__(name: str) -> Any:
    if name == "CONFIG":  # the name older code imports: the same lazily built default
        return default()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
