"""AWS IoT: custom authorizers (`protocolData`, `connectionMetadata`) and registry events.

A rule's own SQL payload has no fixed shape and is traced as a direct invoke; the registry
events IoT publishes (`eventType: THING_EVENT`, ...) and authorizer requests are recognised.
The authorizer's token and MQTT password are credentials and are never read.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "iot"
_REGISTRY = frozenset({"THING_EVENT", "THING_TYPE_EVENT", "THING_TYPE_ASSOCIATION_EVENT", "THING_GROUP_EVENT",
                       "THING_GROUP_MEMBERSHIP_EVENT", "THING_GROUP_HIERARCHY_EVENT"})


def matches(event: dict[str, Any]) -> bool:
    if isinstance(event.get("protocolData"), dict) and isinstance(event.get("connectionMetadata"), dict):
        return True
    event_type = event.get("eventType")
    return isinstance(event_type, str) and event_type in _REGISTRY and "eventId" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    if "protocolData" in event:
        raw = event.get("protocols")
        protocols = [p for p in raw if isinstance(p, str)][:5] if isinstance(raw, list) else []
        metadata = event["connectionMetadata"]
        attributes = {semconv.OPERATION: "authorize", "hoptrace.iot.protocols": protocols or None,
                      "hoptrace.iot.connection_id": text(metadata.get("id"))}
        return simple_invocation(NAME, "iot authorize", "server", "other", attributes)
    event_type = event["eventType"]
    attributes = {semconv.OPERATION: text(event.get("operation")), semconv.MESSAGING_MESSAGE_ID: text(
        event.get("eventId")), "hoptrace.iot.event_type": event_type,
        "hoptrace.iot.thing": text(event.get("thingName") or event.get("thingGroupName") or event.get("thingTypeName"))}
    return simple_invocation(NAME, f"iot {event_type}", "consumer", "pubsub", attributes)
