"""Text a store can hold: lone UTF-16 surrogates replaced by U+FFFD before anything is built from them.

JSON allows the escape `\\ud800` on its own, and Python decodes it into a string that no UTF-8
encoder accepts: SQLite's binding, boto3's request body and the collector's own log line all
raise on it. The layer writes such escapes when a handler's data holds a lone surrogate (say a
`json.loads`'d body), and CloudWatch may hand one through in a log message too. So the batch is
checked once, on its raw bytes (one regex search, nothing when clean), and only a batch that may
hold one pays for cleaning: raw surrogates in every string, and lone escapes in span-line JSON.
"""

from __future__ import annotations

import re

#: A surrogate escape at any JSON nesting level (`\ud800`, `\\ud800`…) or one encoded raw in the
#: bytes (`json.loads` decodes bytes with `surrogatepass`). Valid pairs match too: they are rare.
_MAY_HOLD = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_RAW = re.compile("[\ud800-\udfff]")
#: An escaped backslash (kept, so that `\\ud800` stays text), a valid pair (kept), or a lone surrogate.
_ESCAPE = re.compile(r"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                     r"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
REPLACEMENT = "\ufffd"


def may_hold_surrogates(raw: bytes) -> bool:
    """False when no string decoded from `raw` (JSON) can hold a surrogate: the fast, common answer.

    `bytes.find` rules most batches out before the regex, which scans far slower. A payload's span
    lines are JSON inside JSON, so backslashes are everywhere and each search for one is slow: one
    search for `\\u` (no escape at all, the common case) replaces the two for `\\ud` and `\\uD`;
    the byte 0xED (a raw surrogate's first) is memchr-fast.
    """
    if raw.find(b"\xed") < 0 and (raw.find(b"\\u") < 0 or (raw.find(b"\\ud") < 0 and raw.find(b"\\uD") < 0)):
        return False
    return _MAY_HOLD.search(raw) is not None


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (pairs become the character they encode)."""
    if _RAW.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_json_escapes(text: str) -> str:
    """JSON text whose lone `\\uD800`-`\\uDFFF` escapes are replaced by `\\ufffd`; valid pairs kept."""
    return _ESCAPE.sub(_keep_or_replace, text)


def _keep_or_replace(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) or match.group(2) else "\\ufffd"
