"""The collector's settings, read once from `HOPTRACE_*` variables (documented in the README).

Parsed with the layer's own helpers so a bad value behaves the same everywhere: one warning
on stderr and the default, never a failed start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from hoptrace.config import DEFAULT_REDACTED_KEYS
from hoptrace.envparse import env_bool, env_names, env_number

DEFAULT_STORE = "sqlite:////tmp/hoptrace/spans.db"


@dataclass(frozen=True)
class CollectorConfig:
    store_url: str = DEFAULT_STORE
    max_attribute_length: int = 4096
    part_max_age_s: float = 900.0
    forward_otlp: str | None = None
    forward_xray: bool = False
    forward_timeout_s: float = 2.0
    dlq_urls: tuple[str, ...] = ()
    own_log_group: str | None = None
    max_log_lines: int = 200
    max_log_line_chars: int = 8192
    redacted_keys: frozenset[str] = DEFAULT_REDACTED_KEYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CollectorConfig:
        env = os.environ if env is None else env
        return cls(
            store_url=env.get("HOPTRACE_STORE") or DEFAULT_STORE,
            max_attribute_length=int(env_number(env, "HOPTRACE_MAX_ATTRIBUTE_LENGTH", 4096, 64, 65536)),
            part_max_age_s=env_number(env, "HOPTRACE_PART_MAX_AGE_S", 900.0, 1.0, 86400.0),
            forward_otlp=env.get("HOPTRACE_FORWARD_OTLP") or None,
            forward_xray=env_bool(env, "HOPTRACE_FORWARD_XRAY", False),
            forward_timeout_s=env_number(env, "HOPTRACE_FORWARD_TIMEOUT", 2.0, 0.05, 60.0),
            dlq_urls=tuple(u.strip() for u in env.get("HOPTRACE_DLQ_URLS", "").split(",") if u.strip()),
            own_log_group=env.get("AWS_LAMBDA_LOG_GROUP_NAME") or None,
            max_log_lines=int(env_number(env, "HOPTRACE_MAX_LOG_LINES", 200, 0, 100_000)),
            max_log_line_chars=int(env_number(env, "HOPTRACE_MAX_LOG_LINE_CHARS", 8192, 64, 262_144)),
            redacted_keys=DEFAULT_REDACTED_KEYS | env_names(env, "HOPTRACE_REDACT_KEYS"),
        )
