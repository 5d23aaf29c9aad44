"""Shared by the batch triggers (SQS, SNS, streams, brokers): names from ARNs, queue wait, batch parents."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hoptrace import semconv
from hoptrace.triggers.model import Invocation, Record

if TYPE_CHECKING:
    from hoptrace.engine import Kind


def first_record_from(event: dict[str, Any], source_key: str, source: str) -> bool:
    """Does `event` hold a `Records` batch whose first record came from `source`?"""
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and isinstance(records[0], dict) and (
        records[0].get(source_key) == source
    )


def name_from_arn(arn: Any) -> str:
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) and arn else "unknown"


def wait_ms_since(epoch_ms: Any) -> float | None:
    """Time a message spent waiting before this invocation, from the service's own timestamp."""
    try:
        return max(0.0, time.time() * 1000.0 - float(epoch_ms))
    except (TypeError, ValueError):
        return None


def batch_invocation(trigger: str, system: str, destination: str, records: list[Record],
                     faas_trigger: str = "pubsub") -> Invocation:
    """An invocation over a batch: continue the trace if every carried context shares it.

    Records from several traces give an invocation with no parent; the wrapper links it to
    each producer and parents each record's `process` span in its own trace.
    """
    traces = {r.parent.trace_id for r in records if r.parent is not None}
    parent = None
    if len(traces) == 1:
        parent = next(r.parent for r in records if r.parent is not None)
    attributes: dict[str, Any] = {
        semconv.FAAS_TRIGGER: faas_trigger,
        semconv.TRIGGER: trigger,
        semconv.MESSAGING_SYSTEM: system,
        semconv.MESSAGING_OPERATION: "process",
        semconv.MESSAGING_DESTINATION: destination,
        semconv.MESSAGING_BATCH_COUNT: len(records),
    }
    return Invocation(trigger=trigger, name=f"process {destination}", kind="consumer",
                      attributes=attributes, parent=parent, records=records)


def records_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The dict records of a `Records` batch (a hostile event may hold anything else there)."""
    records = event.get("Records")
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def simple_invocation(trigger: str, name: str, kind: Kind, faas_trigger: str,
                      attributes: dict[str, Any] | None = None, parent: Any = None,
                      problems: list[str] | None = None) -> Invocation:
    """One invocation, no records: the shape most service integrations (Cognito, Config, ...) need."""
    merged: dict[str, Any] = {semconv.FAAS_TRIGGER: faas_trigger, semconv.TRIGGER: trigger}
    for name_, value in (attributes or {}).items():
        if value is not None and value != "":
            merged[name_] = value
    return Invocation(trigger=trigger, name=name, kind=kind, attributes=merged, parent=parent,
                      problems=problems or [])


def text(value: Any, limit: int = 256) -> str | None:
    """A string attribute from an event field, or None when the field is missing or not text."""
    return value[:limit] if isinstance(value, str) and value else None
