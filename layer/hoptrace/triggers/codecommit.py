"""CodeCommit repository triggers (`eventSource: aws:codecommit`): pushes, branch and tag changes."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import first_record_from, name_from_arn, records_of, simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "codecommit"


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "eventSource", "aws:codecommit")


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    record = records_of(event)[0]
    repository = name_from_arn(record.get("eventSourceARN"))
    commit = found if isinstance(found := record.get("codecommit"), dict) else {}
    references = found if isinstance(found := commit.get("references"), list) else []
    refs = [r.get("ref") for r in references if isinstance(r, dict) and isinstance(r.get("ref"), str)][:10]
    attributes = {semconv.OPERATION: text(record.get("eventName")), semconv.EVENT_SOURCE: text(
        record.get("eventSourceARN"), 512), semconv.MESSAGING_MESSAGE_ID: text(record.get("eventId")),
        "hoptrace.codecommit.refs": refs or None, "hoptrace.codecommit.trigger": text(record.get("eventTriggerName"))}
    return simple_invocation(NAME, f"codecommit {repository}", "consumer", "datasource", attributes)
