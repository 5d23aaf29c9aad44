"""Secrets out of free log text, with the rules spans use (`hoptrace.redaction`).

`hoptrace.redaction.redact_text` is the shared rule for free text when the layer provides it;
until then a line that is a JSON object is redacted by key like any payload, and `name=value` /
`name: value` / `"name": "value"` pairs whose name contains a sensitive word are masked.
"""

from __future__ import annotations

import json
import re

from hoptrace import redaction

_redact_text = getattr(redaction, "redact_text", None)
_WORDS = r"password|passwd|secret|token|api[_-]?key|authorization|credential|private[_-]?key|session"
_PAIR = re.compile(r"(?i)([\w.-]*(?:" + _WORDS + r")[\w.-]*)(\"?'?\s*[:=]\s*(?:Bearer\s+|Basic\s+)?[\"']?)"
                   r"([^\s\"',;&}]+)")


def redact_message(text: str, keys: frozenset[str]) -> str:
    if _redact_text is not None:
        return _redact_text(text)
    if text[:1] in ("{", "[") and len(text) < 1_000_000:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            cleaned = redaction.redact(parsed, keys)
            if cleaned != parsed:  # rewritten only when a secret was found, else the line stays as logged
                return json.dumps(cleaned, separators=(",", ":"), default=str, ensure_ascii=False)
    if not _PAIR.search(text):
        return text
    return _PAIR.sub(lambda m: m.group(1) + m.group(2) + redaction.REDACTED, text)
