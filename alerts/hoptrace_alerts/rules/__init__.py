"""The rule kinds, one module each, registered in one table in the order they are evaluated and shown.

Every rule module exposes the same small interface:

- `NAME` (the key in the config file), `TITLE`, `SUBJECT` ("function" or "queue");
- `PARAMS`: its fields (`params.Param`), including the common ones it takes;
- `subjects(facts, params)`: what it judges this time (every function, or every DLQ with arrivals);
- `evaluate(facts, subject, params, firing) -> Finding`: `firing` lets a rule hold its verdict
  while an incident is open (a silent function stays silent after its baseline has aged out).
"""

from __future__ import annotations

from types import ModuleType

from hoptrace_alerts.rules import cold_starts, deaths, dlq, errors, latency, silence

RULES: dict[str, ModuleType] = {module.NAME: module for module in (
    cold_starts, errors, latency, dlq, deaths, silence)}
