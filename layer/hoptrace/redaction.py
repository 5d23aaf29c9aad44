"""Keeps secrets out of everything hoptrace writes: the one place of redaction rules (layer and collector).

A value is secret when its *name* belongs to a family of sensitive names, whatever the spelling:
names are compared lowercased with separators removed, and a family matches anywhere inside a
name, so `X-Auth-Token`, `db_password`, `clientSecret`, `API-KEY`, `refresh_token` and
`set-cookie` are all caught by the families `auth`/`token`, `password`, `secret`, `api key`,
`cookie`. Names are found wherever a name/value pair appears:

- payload keys at any depth, inside JSON strings and base64 bodies too (`redact`, `capture`);
- span attributes, headers and query parameters (`sensitive`, `redact_attributes`, `redact_query_string`);
- free text — exception messages, status messages, log lines: `name=value`, `name: value`,
  `"name": "value"`, `Bearer <token>` and URL userinfo (`https://user:PASS@host`) (`redact_text`).

Additions and exceptions come from `HOPTRACE_REDACT_KEYS` / `HOPTRACE_REDACT_HEADERS` (extra families)
and `HOPTRACE_REDACT_ALLOW` (exact names never redacted), read once at import. Every pattern is
compiled once; text without any family word costs one regex scan.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hoptrace.envparse import env_names
from hoptrace.plain import Frozen

REDACTED = "[REDACTED]"
_MAX_DEPTH = 12
_QUERY_KEYS = frozenset({"rawquerystring", "querystring"})  # query strings inside captured events
_QUERY_PARAMETERS = frozenset({"querystringparameters", "multivaluequerystringparameters"})
_SEP = r"[-_.\s]?"  # how the words of a family may be joined in raw text: api_key, api-key, apiKey, "api key"

# Families, as regex fragments over lowercased text; "_" marks where a separator may stand.
# `auth` must not match `author`/`authority`, but does match `authorization`/`authorize`.
FAMILIES = (
    "secret", "token", "pass_w", "pwd", "pass_phrase", "api_key", "auth(?!or(?!i[sz]))", "credential",
    "session", "cookie", "signature", "private_key", "jwt", "csrf", "xsrf", "access_key",
)
EXACT_NAMES = frozenset({"pass", "pw", "sig", "otp"})  # too short to be families; sensitive as whole names
PAIR_NAMES = frozenset({"key"})  # sensitive as a query parameter or `key=...` in text, not as a payload key
_WHOLE_NAMES = EXACT_NAMES | PAIR_NAMES
DEFAULT_ALLOWED = frozenset({  # counts and versions that merely share a family word
    "maxtokens", "inputtokens", "outputtokens", "prompttokens", "completiontokens", "totaltokens",
    "tokencount", "tokenusage", "signatureversion", "sessioncount", "secretid", "secretarn", "secretname",
    "tokentype", "authtype", "authorizertype", "authorizer",
})
_GENERIC_LEAVES = frozenset({"id", "value", "key", "string", "data", "text"})
_CACHE_SIZE = 4096  # names and short texts repeat across invocations (ARNs, routes, user agents)
_CACHED_TEXT = 200
_NORMALISE = re.compile(r"[-_.\s]+")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class _Lazy:
    """A pattern compiled on first use (`_VALUE().match(...)`): the rules' scan and the patterns that take a found
    secret apart run only once text holds a candidate, which most invocations never meet, and compiling them
    all at import was 2-3 ms of every cold start."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    def __call__(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern, self._flags)
        return compiled


_NAME_TAIL = _Lazy(r"[\w.-]*")
_AFTER_NAME = _Lazy(r"""(?:\\*["'])?[ \t]*(?P<sep>[:=])""")
_VALUE = _Lazy(r"""\s*(?:
      (?P<eq>\\+")(?P<v1>.*?)\\+"                  # \"value\" (JSON inside a JSON string)
    | "(?P<v2>(?:[^"\\\n]|\\.)*)"                  # "value"
    | '(?P<v3>(?:[^'\\\n]|\\.)*)'                  # 'value'
    )""", re.X)
_SCHEME = r"(?:(?:bearer|basic|digest|token|negotiate|aws4-hmac-sha256)\s+)?"
_BARE_EQ = _Lazy(r"""[ \t]*(?P<v>""" + _SCHEME + r"""[^\s&;,"'<>()\[\]{}]+)""", re.I)
_BARE_COLON = _Lazy(r"""[ \t]*(?P<v>[^\s,;&"'<>()\[\]{}](?:[^\n\r,;&"'<>()\[\]{}]*[^\s,;&"'<>()\[\]{}])?)""")
_USERINFO = _Lazy(r"(?P<user>[^/\s:@?#\"'<>]*)(?::(?P<password>[^/\s@?#\"'<>]*))?@")
_BEARER_VALUE = _Lazy(r"\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})")
_PEM_END = _Lazy(r"-----END[A-Z ]*PRIVATE KEY-----", re.I)
_BASE64 = _Lazy(r"[A-Za-z0-9+/]{12,}={0,2}")
# Text that `Rules.text` provably leaves as it is, whatever the families: every secret it finds follows `=` or `:`
# (pairs, quoted pairs, URLs), "bearer" and whitespace, or a PEM header (whose "private key" holds a space).
# Ids, names and versions (request and message ids, regions, operations) are such text, and need no JSON escaping.
PLAIN_TEXT = re.compile(r"[0-9A-Za-z._-]*").fullmatch


def normalise(name: str) -> str:
    """A name as families are compared: lowercase, no `-`, `_`, `.` or spaces."""
    return _NORMALISE.sub("", name.lower())


class Rules(Frozen):
    """Compiled families, additions and exceptions; build once and reuse (see `rules`).

    Equal, and hashed, by `extra` and `allowed` alone: the rest is made from them, or caches."""

    __slots__ = ("_anchors", "_cache", "_name", "_scan", "_scan_any_case", "_texts", "allowed", "attribute_answers",
                 "extra")
    _fields = ("extra", "allowed")
    extra: frozenset[str]
    allowed: frozenset[str]
    _name: re.Pattern[str]
    # the scan for family words, URLs, bearer tokens and PEM keys, compiled on first use: text is searched only
    # once an anchor word is in it; the case-folding form only for text whose lowercase changes its length
    _scan: _Lazy
    _scan_any_case: _Lazy
    _anchors: tuple[str, ...]
    _cache: dict[str, bool]
    _texts: dict[str, str]
    # attribute name -> `attribute_sensitive`'s answer, for the names asked so far: the scrubber's hot loop
    # reads it first (a dict lookup instead of a method call). Read only outside this class.
    attribute_answers: dict[str, bool]

    def __init__(self, extra: frozenset[str] = frozenset(), allowed: frozenset[str] = DEFAULT_ALLOWED) -> None:
        self._assign(locals())
        setattr_ = object.__setattr__
        setattr_(self, "_cache", {})
        setattr_(self, "_texts", {})
        setattr_(self, "attribute_answers", {})
        extra_words = ["_".join(re.escape(word) for word in _NORMALISE.split(name) if word) for name in sorted(extra)]
        families = [*FAMILIES, *(e for e in extra_words if e)]
        name = "|".join(f.replace("_", "") for f in families)
        raw = "|".join(f.replace("_", _SEP) for f in families)
        exact = "|".join(sorted(_WHOLE_NAMES))
        # Searched in lowercased text, without re.I, look-behinds or named groups: each costs several times.
        scan = rf"{raw}|{exact}|://|bearer|-----begin[a-z ]*private key-----"
        # Substrings one of which every match contains: C-speed `in` checks rule most text out before the regex.
        words = {_anchor(family) for family in families} | _WHOLE_NAMES | {"://", "bearer", "-----begin"}
        words.discard("")
        anchors = tuple(sorted(w for w in words if not any(o != w and o in w for o in words)))
        setattr_(self, "_anchors", anchors)
        setattr_(self, "_name", re.compile(name))
        setattr_(self, "_scan", _Lazy(scan))
        setattr_(self, "_scan_any_case", _Lazy(scan, re.I))

    def sensitive(self, name: str, pair: bool = False) -> bool:
        """Whether a value named `name` is secret; `pair` also counts names only sensitive in queries/text."""
        if pair:
            norm = normalise(name)
            if norm in PAIR_NAMES:
                return norm not in self.allowed
        hit = self._cache.get(name)
        if hit is None:
            norm = normalise(name)
            hit = norm not in self.allowed and (norm in EXACT_NAMES or self._name.search(norm) is not None)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[name] = hit
        return hit

    def text(self, text: str) -> str:
        """`text` with the value of every sensitive name/value pair, bearer token, URL password and PEM key masked."""
        short = len(text) <= _CACHED_TEXT
        if short:
            done = self._texts.get(text)
            if done is not None:
                return done
            if PLAIN_TEXT(text) is not None:  # not cached: ids, unique per call, would only churn the cache
                return text
        # Every secret the rules find sits after `=` or `:` (pairs, URLs), after "bearer" or in a PEM block.
        if "=" not in text and ":" not in text and "earer" not in text and "EARER" not in text and "-----" not in text:
            result = text
        else:
            result = self._search(text)
        if short:
            if len(self._texts) >= _CACHE_SIZE:
                self._texts.clear()
            self._texts[text] = result
        return result

    def _search(self, text: str) -> str:
        lowered = text.lower()
        for anchor in self._anchors:  # a plain loop: twice as fast as any() over a generator
            if anchor in lowered:
                break
        else:
            return text
        scan, searched = (self._scan(), lowered) if len(lowered) == len(text) else (self._scan_any_case(), text)
        match = scan.search(searched)
        out: list[str] = []
        done = 0  # text[:done] is already in `out`
        while match is not None:
            word = match.group().lower()
            at = match.end()
            span = (_url_secret(text, at) if word == "://"
                    else _bearer_secret(text, match.start(), at) if word == "bearer"
                    else _pem_secret(text, at) if word[0] == "-"
                    else self._pair_secret(text, match.start(), at, word in _WHOLE_NAMES))
            if span is not None and span[0] >= done:
                out.append(text[done:span[0]])
                out.append(REDACTED)
                done = at = span[1]
            match = scan.search(searched, at)
        if not out:
            return text
        out.append(text[done:])
        return "".join(out)

    def _pair_secret(self, text: str, start: int, end: int, whole: bool) -> tuple[int, int] | None:
        """Where the value of the name around text[start:end] lies, if it is followed by `=`/`:` and a value."""
        if whole and ((start > 0 and text[start - 1] in _NAME_CHARS) or (end < len(text) and text[end] in _NAME_CHARS)):
            return None  # `key` in `monkey=`, `pw` in `pwa:`
        first = start
        while first > 0 and start - first < 64 and text[first - 1] in _NAME_CHARS:
            first -= 1
        last = _NAME_TAIL().match(text, end).end()  # type: ignore[union-attr]  # `[\w.-]*` matches anywhere
        if normalise(text[first:last]) in self.allowed:
            return None
        after = _AFTER_NAME().match(text, last)
        if after is None:
            return None
        quoted = _VALUE().match(text, after.end())
        if quoted is not None:
            group = "v1" if quoted.group("eq") else "v2" if quoted.group("v2") is not None else "v3"
            return quoted.span(group)
        if after.group("sep") == "=":
            bare = _BARE_EQ().match(text, after.end())
            return bare.span("v") if bare is not None else None
        bare = _BARE_COLON().match(text, after.end())
        return bare.span("v") if bare is not None else None

    def query(self, query: Any) -> str:
        """A query string with the values of sensitive parameters masked (and free-text rules on the rest)."""
        if not query or not isinstance(query, str):
            return ""
        if self._scan().search(query.lower()) is None:
            return query
        try:
            pairs = parse_qsl(query, keep_blank_values=True)
        except ValueError:
            return REDACTED
        cleaned = [(k, REDACTED if self.sensitive(k, pair=True) else self.text(v)) for k, v in pairs]
        if cleaned == pairs:
            return query
        return urlencode(cleaned, safe="[]")

    def attribute_sensitive(self, name: str) -> bool:
        """For a dotted attribute name the last part decides (`hoptrace.authorizer.type` is no secret,
        `http.request.header.x-api-key` is); a generic last part joins the one before (`app.session.id`)."""
        hit = self.attribute_answers.get(name)
        if hit is None:
            parts = name.rsplit(".", 2)
            leaf = parts[-1]
            if len(parts) > 1 and normalise(leaf) in _GENERIC_LEAVES:
                leaf = parts[-2] + "_" + leaf
            hit = self.sensitive(leaf)
            if len(self.attribute_answers) >= _CACHE_SIZE:
                self.attribute_answers.clear()
            self.attribute_answers[name] = hit
        return hit

    def value(self, name: str, value: Any) -> Any:
        """An attribute value as written: masked when its name is sensitive, free text cleaned."""
        if isinstance(value, bool) or value is None:
            return value  # `"session": true` is a flag, not a secret
        if self.attribute_sensitive(name):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list | tuple):
            return [self.text(v) if isinstance(v, str) else v for v in value]
        return value

    def attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Span attributes as written; the same dict when nothing is sensitive (the common, fast case)."""
        out: dict[str, Any] | None = None
        for name, value in attributes.items():
            cleaned = self.value(name, value)
            if cleaned is not value and cleaned != value:
                if out is None:
                    out = dict(attributes)
                out[name] = cleaned
        return attributes if out is None else out

    def structure(self, value: Any, depth: int = 0) -> Any:
        """A copy of `value` with the value of every sensitive key masked, at any depth.

        JSON strings and base64 bodies are searched too (API Gateway and SQS bodies, Kinesis data),
        since a secret in a body is as much a secret as one in a dict.
        """
        if depth > _MAX_DEPTH:
            return "[TOO DEEP]"
        if isinstance(value, dict):
            return {k: self._item(k, v, depth) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.structure(v, depth + 1) for v in value]
        if isinstance(value, str):
            return self._string(value, depth)
        if isinstance(value, float) and not math.isfinite(value):
            return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        return value

    def _item(self, key: Any, value: Any, depth: int) -> Any:
        if isinstance(key, str):
            if self.sensitive(key) and not isinstance(value, bool) and value is not None:
                return REDACTED
            lowered = key.lower()
            if lowered in _QUERY_KEYS and isinstance(value, str):
                return self.query(value)
            if lowered in _QUERY_PARAMETERS and isinstance(value, dict):  # `key=` is sensitive as a parameter
                return {k: REDACTED if isinstance(k, str) and self.sensitive(k, pair=True) and v is not None
                        else self.structure(v, depth + 2) for k, v in value.items()}
        return self.structure(value, depth + 1)

    def _string(self, value: str, depth: int) -> str:
        if value[:1] in ("{", "[") and depth < _MAX_DEPTH:
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                return self.text(value)
            return json.dumps(self.structure(parsed, depth + 1), separators=(",", ":"), default=str)
        if len(value) >= 12 and _BASE64().fullmatch(value) and len(value) % 4 == 0:
            return self._base64(value, depth)
        return self.text(value)

    def _base64(self, value: str, depth: int) -> str:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, ValueError):
            return value
        if self._scan().search(decoded.lower()) is None:
            return value
        cleaned = self._string(decoded, depth + 1)
        return value if cleaned == decoded else base64.b64encode(cleaned.encode()).decode()


def _anchor(family: str) -> str:
    """The longest plain word of a family (the last of equals): every match of the family contains it."""
    # `[a-z0-9]*` matches every string (maybe empty), so the `if` drops nothing; it tells mypy so.
    words: list[str] = [m.group() for part in family.split("_") if (m := re.match(r"[a-z0-9]*", part))]
    return max(reversed(words), key=len)


def _url_secret(text: str, at: int) -> tuple[int, int] | None:
    """The password of `scheme://user:password@host` (or a token standing alone as the user)."""
    match = _USERINFO().match(text, at)
    if match is None:
        return None
    if match.group("password"):
        return match.span("password")
    if match.group("password") is None and len(match.group("user")) >= 16:  # https://<token>@github.com
        return match.span("user")
    return None


def _pem_secret(text: str, at: int) -> tuple[int, int]:
    """A PEM private key's body, up to its END line (or the end of the text, if cut)."""
    match = _PEM_END().search(text, at)
    return at, match.start() if match is not None else len(text)


def _bearer_secret(text: str, start: int, at: int) -> tuple[int, int] | None:
    if start > 0 and text[start - 1].isalnum():
        return None
    match = _BEARER_VALUE().match(text, at)
    return match.span("v") if match is not None else None


@lru_cache(maxsize=32)
def rules(extra: frozenset[str] = frozenset(), allowed: frozenset[str] = frozenset()) -> Rules:
    """The rules with these additions and exceptions on top of the defaults and the environment's (cached)."""
    return Rules(RULES.extra | extra, RULES.allowed | frozenset(normalise(a) for a in allowed))


def rules_from_env(env: Mapping[str, str]) -> Rules:
    """`HOPTRACE_REDACT_KEYS`/`HOPTRACE_REDACT_HEADERS` add families, `HOPTRACE_REDACT_ALLOW` exempts names."""
    extra = env_names(env, "HOPTRACE_REDACT_KEYS") | env_names(env, "HOPTRACE_REDACT_HEADERS")
    allowed = frozenset(normalise(name) for name in env_names(env, "HOPTRACE_REDACT_ALLOW"))
    return Rules(extra, DEFAULT_ALLOWED | allowed)


RULES = rules_from_env(os.environ)


def redact_text(text: str) -> str:
    """Free text (an exception message, a log line) with every secret the rules recognise masked."""
    if not text or not isinstance(text, str):
        return text
    return RULES.text(text)


def _keyed(keys: Iterable[str]) -> Rules:
    keys = frozenset(keys)
    return RULES if keys <= RULES.extra else rules(keys)


def redact_query_string(query: Any, keys: frozenset[str] = frozenset()) -> str:
    """Query strings carry api keys and tokens as often as headers do: mask the values of sensitive names."""
    return _keyed(keys).query(query)


def redact_header(name: str, value: Any, extra: frozenset[str] = frozenset()) -> str:
    """A header value as captured: masked when its name is sensitive (`extra` adds names), else free text cleaned."""
    rules = _keyed(extra)
    return REDACTED if rules.sensitive(name) else rules.text(str(value))


def redact(value: Any, keys: frozenset[str] = frozenset(), depth: int = 0) -> Any:
    """A copy of `value` with every sensitive key masked at any depth (`keys` adds families)."""
    return _keyed(keys).structure(value, depth)


def capture(value: Any, keys: frozenset[str], headers: frozenset[str], max_bytes: int) -> str:
    """A redacted, size-capped JSON rendering for the `*.payload` attributes."""
    cleaned = _keyed(keys | headers).structure(value)
    text = json.dumps(cleaned, separators=(",", ":"), default=_safe_repr)
    if len(text) > max_bytes:
        return text[:max_bytes] + f"...[truncated {len(text) - max_bytes} chars]"
    return text


def _safe_repr(value: Any) -> str:
    try:
        return RULES.text(repr(value))
    except Exception:  # a user object whose __repr__ raises must not cost the span
        return f"<{type(value).__name__}>"
