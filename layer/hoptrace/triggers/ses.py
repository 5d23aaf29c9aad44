"""SES email receiving rules invoking a function (`eventSource: aws:ses`).

Only ids and the verdicts are recorded: addresses and subjects are personal data.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import batch_invocation, first_record_from, records_of
from hoptrace.triggers.model import Invocation, Record

NAME = "ses"


def matches(event: dict[str, Any]) -> bool:
    return first_record_from(event, "eventSource", "aws:ses")


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records = []
    for raw in records_of(event):
        ses = found if isinstance(found := raw.get("ses"), dict) else {}
        mail = found if isinstance(found := ses.get("mail"), dict) else {}
        receipt = found if isinstance(found := ses.get("receipt"), dict) else {}
        message_id = str(mail.get("messageId", ""))
        attributes: dict[str, Any] = {semconv.MESSAGING_SYSTEM: "aws_ses", semconv.MESSAGING_OPERATION: "process",
                                      semconv.MESSAGING_DESTINATION: "email", semconv.MESSAGING_MESSAGE_ID: message_id}
        for verdict in ("spamVerdict", "virusVerdict", "spfVerdict", "dkimVerdict", "dmarcVerdict"):
            value = receipt.get(verdict)
            if isinstance(value, dict) and isinstance(value.get("status"), str):
                attributes[f"hoptrace.ses.{verdict}"] = value["status"]
        records.append(Record("process email", message_id, None, attributes))
    invocation = batch_invocation(NAME, "aws_ses", "email", records)
    invocation.name = "receive email"
    return invocation
