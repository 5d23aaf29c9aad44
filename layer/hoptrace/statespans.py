"""Span ids of Step Functions executions and states, derived from what both sides can see.

The local cloud (parent ids it hands Lambda tasks), the layer (a task whose input carries the context
object) and the collector (spans rebuilt from execution history) all call these, so a Lambda task, its
state and its execution meet in one tree without any of them telling the others an id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime


def _id(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
    return digest if digest != "0" * 16 else "1".rjust(16, "0")


def execution_span_id(execution_arn: str) -> str:
    return _id("execution", execution_arn)


def state_span_id(execution_arn: str, state_name: str, entered_ms: int) -> str:
    """One entry into one state: its name and the millisecond it was entered (`$$.State.EnteredTime`, the
    history's `*StateEntered` timestamp)."""
    return _id("state", execution_arn, state_name, str(int(entered_ms)))


def entered_ms(entered_time: str) -> int | None:
    """`$$.State.EnteredTime` ("2019-03-26T20:14:13.192Z") as epoch milliseconds; None if it is not a time."""
    try:
        return round(datetime.fromisoformat(entered_time.replace("Z", "+00:00")).timestamp() * 1000)
    except (ValueError, AttributeError, TypeError):
        return None
