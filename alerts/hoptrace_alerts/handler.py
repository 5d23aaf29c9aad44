"""The alert evaluator as a Lambda function: `hoptrace_alerts.handler.handler`, on a `rate(1 minute)` schedule.

Environment (read once, on the first invocation of a sandbox):

| variable | meaning |
|---|---|
| `HOPTRACE_STORE` | the span store (`sqlite:///…`, `dynamodb://table?region=…`); alert state is kept in it |
| `HOPTRACE_ALERT_RULES` | the rules file's path, or the TOML itself; empty: the shipped defaults |
| `HOPTRACE_ALERT_TOPIC_ARN` | SNS topic for notifications (overrides the file's `notify.sns_topic_arn`) |
| `HOPTRACE_ALERT_WEBHOOK_URL` | webhook for notifications (overrides `notify.webhook_url`) |
| `HOPTRACE_DASHBOARD_URL` | base URL notifications link to (overrides `dashboard_url`) |

Each invocation evaluates at the clock's time, not the scheduled event's `time`: that is cut to
the second and set when the schedule fired, and every second of freshness counts between a
failure and its alert. A redelivered or overlapping invocation cannot notify twice: each move is
stored against the alert's version before anyone is notified (see `evaluator.run_once`).
Imports: stdlib, boto3 (SNS and the DynamoDB store, on demand) and `hoptrace_collector.store`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from hoptrace_alerts import config as alert_config
from hoptrace_alerts.evaluator import Evaluator, run_once
from hoptrace_alerts.notify import Channel, channels
from hoptrace_alerts.states import open_state_store
from hoptrace_collector.store import open_store

ENV_STORE = "HOPTRACE_STORE"
_RUNTIME: tuple[Evaluator, list[Channel]] | None = None
_LOCK = threading.Lock()


def build(environ: Mapping[str, str] = os.environ,
          clock: Callable[[], int] = time.time_ns) -> tuple[Evaluator, list[Channel]]:
    """The evaluator and channels the environment describes; a clear error when it is incomplete."""
    store_url = environ.get(ENV_STORE, "").strip()
    if not store_url:
        raise RuntimeError(f"{ENV_STORE} is not set: give the evaluator the span store's URL "
                           "(e.g. sqlite:////mnt/hoptrace/spans.db or dynamodb://hoptrace-spans?region=eu-west-1)")
    settings = alert_config.load(None, environ)
    store = open_store(store_url)
    return Evaluator(store, open_state_store(store), settings, clock), channels(settings)


def handler(event: Any, context: Any) -> dict[str, Any]:
    global _RUNTIME
    with _LOCK:
        if _RUNTIME is None:
            _RUNTIME = build()
        evaluator, targets = _RUNTIME
    evaluation, applied = run_once(evaluator, targets)
    return {
        "time_ns": evaluation.now_ns,
        "evaluated": len(evaluation.alerts),
        "firing": sorted(f"{a.state.rule}:{a.state.subject}" for a in evaluation.firing),
        "transitions": [f"{t.rule}:{t.subject}:{t.from_state}->{t.to_state}" for t in applied],
        "duration_ms": round(evaluation.duration_ms, 1),
    }
