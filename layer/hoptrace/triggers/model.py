"""What a trigger module reports about an invocation: plain data, no OpenTelemetry types."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hoptrace.plain import Plain
from hoptrace.propagation import Carried

if TYPE_CHECKING:
    from hoptrace.engine import Kind


class Record(Plain):
    """One message of a batch: it gets its own `process` span in its producer's trace."""

    __slots__ = _fields = ("name", "message_id", "parent", "attributes")
    name: str
    message_id: str
    parent: Carried | None
    attributes: dict[str, Any]

    def __init__(self, name: str, message_id: str, parent: Carried | None, attributes: dict[str, Any]) -> None:
        self.name = name
        self.message_id = message_id
        self.parent = parent
        self.attributes = attributes


class Invocation(Plain):
    """What the trigger says of one invocation; `kind` is "server", "consumer" or "internal"."""

    __slots__ = _fields = ("trigger", "name", "kind", "attributes", "parent", "records", "problems", "is_http")
    trigger: str
    name: str
    kind: Kind
    attributes: dict[str, Any]
    parent: Carried | None
    records: list[Record]
    problems: list[str]
    is_http: bool

    def __init__(self, trigger: str, name: str, kind: Kind, attributes: dict[str, Any], parent: Carried | None = None,
                 records: list[Record] | None = None, problems: list[str] | None = None, is_http: bool = False) -> None:
        self.trigger = trigger
        self.name = name
        self.kind = kind
        self.attributes = attributes
        self.parent = parent
        self.records = [] if records is None else records
        self.problems = [] if problems is None else problems
        self.is_http = is_http
