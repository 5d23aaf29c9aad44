"""Reading `HOPTRACE_*` settings: one behaviour for the layer and the collector alike.

A bad value falls back to the default with one warning on stderr rather than failing: a typo in a
tracing setting must never take a service down. Public, and free of side effects, so the collector
and the CLI parse the same way without reaching into the layer's private names.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping


def warn(message: str) -> None:
    print(f"hoptrace: {message}", file=sys.stderr)


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    warn(f"{name}={raw!r} is not a boolean (use true/false); using {default}")
    return default


def env_number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        warn(f"{name}={raw!r} is not a number; using {default}")
        return default
    if not low <= value <= high:
        warn(f"{name}={raw!r} must be between {low} and {high}; using {default}")
        return default
    return value


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in choices:
        return value
    warn(f"{name}={raw!r} must be one of {', '.join(choices)}; using {default}")
    return default


def env_names(env: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in env.get(name, "").split(",") if part.strip())
