"""Amazon Lex code hooks: V1 (`currentIntent`) and V2 (`interpretations`, `sessionState`).

The user's utterance (`inputTranscript`) is personal data and never recorded.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "lex"


def matches(event: dict[str, Any]) -> bool:
    if not isinstance(event.get("bot"), dict):
        return False
    return "currentIntent" in event or ("sessionState" in event and "invocationSource" in event)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    bot = text(event["bot"].get("name")) or "bot"
    intent = event.get("currentIntent")
    if not isinstance(intent, dict):
        state = found if isinstance(found := event.get("sessionState"), dict) else {}
        intent = found if isinstance(found := state.get("intent"), dict) else {}
    intent_name = text(intent.get("name")) or "intent"
    attributes = {semconv.OPERATION: text(event.get("invocationSource")), "hoptrace.lex.bot": bot,
                  "hoptrace.lex.intent": intent_name}
    return simple_invocation(NAME, f"lex {bot} {intent_name}", "server", "other", attributes)
