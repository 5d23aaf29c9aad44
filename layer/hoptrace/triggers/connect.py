"""Amazon Connect contact flows (`Name: ContactFlowEvent`). Phone numbers are never recorded."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "connect"


def matches(event: dict[str, Any]) -> bool:
    return event.get("Name") == "ContactFlowEvent" and isinstance(event.get("Details"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    contact = event["Details"].get("ContactData")
    contact = contact if isinstance(contact, dict) else {}
    attributes = {semconv.OPERATION: text(contact.get("InitiationMethod")),
                  semconv.EVENT_SOURCE: text(contact.get("InstanceARN"), 512),
                  "hoptrace.connect.channel": text(contact.get("Channel")),
                  "hoptrace.connect.contact_id": text(contact.get("ContactId"))}
    return simple_invocation(NAME, "connect contact flow", "server", "other", attributes)
