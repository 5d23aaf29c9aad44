"""What a trigger module reports about an invocation: plain data, no OpenTelemetry types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hoptrace.propagation import Carried

if TYPE_CHECKING:
    from hoptrace.engine import Kind


@dataclass(slots=True)
class Record:
    """One message of a batch: it gets its own `process` span in its producer's trace."""

    name: str
    message_id: str
    parent: Carried | None
    attributes: dict[str, Any]


@dataclass(slots=True)
class Invocation:
    trigger: str
    name: str
    kind: Kind  # "server" | "consumer" | "internal"
    attributes: dict[str, Any]
    parent: Carried | None = None
    records: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    is_http: bool = False
