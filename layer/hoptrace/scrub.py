"""Makes finished wire spans safe to write, whatever the handler put into them.

Engine-free: it works on wire dicts (`hoptrace.wire`), so every engine's output passes through it
(`hoptrace.output.lines` calls it). One pass over each span, changing only what must change:

- secrets: values of sensitive names are masked and free text is redacted (`hoptrace.redaction`),
  in attributes, status messages, event and link attributes;
- unencodable text: lone surrogates (a `json.loads`'d body holding `"\\ud800"`, a file name read
  with `surrogateescape`) become U+FFFD, so the line is valid UTF-8 and one bad character cannot
  make the collector's batch fail;
- strict JSON: NaN and ±Infinity become the strings "NaN", "Infinity", "-Infinity";
- bounded values: strings are cut at `max_chars`, lists at `MAX_LIST_ITEMS`, and anything that is
  not a scalar or a list of scalars becomes depth-bounded JSON text.

Spans are changed in place (they are the engine's fresh copies); the counts of what was fixed are
returned for the line's `health`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from typing import Any

from hoptrace import wire
from hoptrace.redaction import PLAIN_TEXT, RULES, Rules, capture
from hoptrace.wire import BasedAttributes

MAX_LIST_ITEMS = 128
_CACHED_CHARS = 200
_CACHE_SIZE = 4096
# Values cached per attribute name, at most: a name past it (a request or message id, an event's time) has
# a new value every call, and cached they only filled the cache (cleared whole when full) and spread its hot
# entries over more memory; such a value is cleaned the short way (`_fragment`) each time instead.
_DISTINCT_VALUES = 64
_BASES = 256  # attribute bases whose text a scrubber keeps (an SDK call's per queue, topic, ...)
# Per (rules, max_chars), exactly what determines a value's cleaned form: (name, short value) -> cleaned value,
# and -> (cleaned value, its `"name":value` JSON fragment). Keyed by the rules' value (a frozen dataclass of
# its additions and exceptions), not their id: a freed rules object's id can come back for other rules.
_CACHES: dict[tuple[Rules, int], dict[tuple[str, str], Any]] = {}
# A fragment alone when cleaning changed nothing, else (fragment, cleaned value).
_FRAGMENTS: dict[tuple[Rules, int], dict[tuple[str, str], str | tuple[str, Any]]] = {}
_SCRUBBERS: dict[tuple[int, int], Scrubber] = {}  # by the rules' id, checked to be the very rules
_NAMES: dict[str, str] = {}  # attribute name -> its JSON text and ":" (a function has few names)
_SURROGATE = re.compile("[\ud800-\udfff]")  # one U+FFFD per lone surrogate
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
MAX_TIME = 2**63 - 1  # the wire's (and the stores') largest time in nanoseconds


def encodable(text: str) -> str:
    """`text` as valid UTF-8: lone surrogates replaced by U+FFFD (the common, ASCII case costs one check)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def strict_number(value: float) -> float | str:
    """A float JSON can carry; NaN and infinities as the strings JavaScript would print."""
    if math.isfinite(value):
        return value
    return _NON_FINITE.get(value, "NaN")


class Scrubber:
    """Cleans spans with one set of limits and rules; counts what it fixed (`fixed`)."""

    def __init__(self, max_chars: int = 4096, rules: Rules = RULES, fixed: Counter[str] | None = None) -> None:
        self.max_chars = max_chars
        self.rules = rules
        self.fixed: Counter[str] = Counter() if fixed is None else fixed
        self._cache = _CACHES.setdefault((rules, max_chars), {})
        self._fragments = _FRAGMENTS.setdefault((rules, max_chars), {})
        self._based: dict[int, tuple[dict[str, Any], str | None]] = {}  # see `_base_text`
        self._distinct: dict[str, int] = {}  # name -> values cached for it (see `_DISTINCT_VALUES`)
        self._unique: dict[str, str] = {}  # a name past `_DISTINCT_VALUES`, of no sensitive family -> `"name":`

    def span(self, span: dict[str, Any]) -> None:
        attributes = span.get("attributes")
        if attributes:
            span["attributes"] = self.attributes(attributes)
        self._rest(span)

    def _rest(self, span: dict[str, Any]) -> None:
        """Everything of `span` but its own attributes: name, status message, events and links."""
        name = span.get("name")
        if isinstance(name, str) and not (name.isascii() and len(name) <= 1024):  # ASCII needs no fixing
            span["name"] = self.text(name)[:1024]
        status = span.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            status["message"] = self.rules.text(self.text(status["message"]))
        if "events" not in span and "links" not in span:  # most spans: the engines leave out empty ones
            return
        for key in ("events", "links"):
            for item in span.get(key) or ():
                if isinstance(item, dict):
                    if isinstance(item.get("name"), str):
                        item["name"] = self.text(item["name"])[:1024]
                    if item.get("attributes"):
                        item["attributes"] = self.attributes(item["attributes"])

    def span_text(self, span: dict[str, Any]) -> str:
        """`span` cleaned in place (as `span` does) and returned as its wire JSON text.

        The attributes' text is joined from `"name":value` fragments cached per (name, short value),
        so the values that repeat across invocations are neither cleaned nor escaped again."""
        try:  # free unless raised (zero-cost exceptions): no frame of its own on the hot path
            attributes = span.get("attributes")
            if not attributes or (type(attributes) is not dict and type(attributes) is not BasedAttributes):
                self.span(span)
                return wire.dumps_scrubbed(span)
            cleaned, text = self.attributes_text(attributes)
            span["attributes"] = cleaned
            name, status = span.get("name"), span.get("status")
            if ("events" in span or "links" in span or type(status) is not dict or len(status) != 1
                    or type(name) is not str or len(name) > 1024 or not name.isascii()):
                self._rest(span)  # else (most spans) nothing to fix: a short ASCII name, a status without message
            return wire.span_text(span, text)
        except ValueError:
            # An integer past Python's limit for turning one into text (4,300 digits by default) raises here,
            # and would cost the whole line: it becomes a marker saying how big it was, and the span is
            # rendered again. Anything else that raises goes on to the caller as before.
            if not _unprintable_ints(span):
                raise
            self.fixed["scrub.huge_integer"] += 1
            return self.span_text(span)

    def attributes_text(self, attributes: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """`attributes(attributes)` and the cleaned attributes' JSON object text.

        A (name, short ASCII string) pair's fragment is cached beside its cleaned value, keyed as that
        is (the same rules and limit), so a cached fragment is always the cleaned value's text. Flags, and
        integers of names outside the sensitive families, are written as they are (what `attributes` would
        keep); any other pair is cleaned by `attributes` on its own and encoded afresh."""
        get, unique, limit = self._fragments.get, self._unique, min(_CACHED_CHARS, self.max_chars)
        answers, sensitive = self.rules.attribute_answers, self.rules.attribute_sensitive
        parts: list[str] = []
        out: dict[str, Any] | None = None
        items: Iterable[tuple[Any, Any]] = attributes.items()
        if type(attributes) is BasedAttributes and attributes.base is not None:
            base = attributes.base
            known = self._based.get(id(base))
            if known is None or known[0] is not base:
                known = self._base_text(base)
            if known[1] is not None:  # its base's items, cleaned as they are: their text made once
                if known[1]:
                    parts.append(known[1])
                items = islice(items, len(base), None)
        for item in items:  # the (name, value) tuple itself is the cache key
            try:
                found = get(item)
            except TypeError:  # an unhashable value (a list): never cached
                found = None
            if isinstance(found, str):  # the common case: cached, and cleaning changed nothing
                parts.append(found)
                continue
            key, value = item
            kind = type(value)
            if kind is str:
                if found is None:
                    head = unique.get(key)  # a name whose values never repeat (an id): `_fragment`'s short way
                    if head is not None and len(value) <= limit and value.isascii() and PLAIN_TEXT(value) is not None:
                        parts.append(head + '"' + value + '"')
                        continue
                    found = self._fragment(key, value)
                if found is not None:
                    fragment, clean = found
                    parts.append(fragment)
                    if clean is not value:
                        if out is None:
                            out = dict(attributes)
                        out[key] = clean
                    continue
            elif type(key) is str and key.isascii():  # numbers and flags: never cached (True == 1), written here
                if kind is bool:  # flags are never secret
                    parts.append((_NAMES.get(key) or _name_text(key)) + ("true" if value else "false"))
                    continue
                if kind is int and not (sensitive(key) if (answer := answers.get(key)) is None else answer):
                    parts.append((_NAMES.get(key) or _name_text(key)) + int.__repr__(value))  # as `attributes` keeps it
                    continue
            single = {key: value}
            cleaned = self.attributes(single)
            if cleaned is not single:
                if out is None:
                    out = dict(attributes)
                del out[key]
                out.update(cleaned)
            for clean_key, clean in cleaned.items():
                parts.append(_name_text(clean_key) + wire.dumps_scrubbed(clean))
        return attributes if out is None else out, "{" + ",".join(parts) + "}"

    def _base_text(self, base: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """(`base`, the text of its items joined) when cleaning leaves them as they are, else (`base`, None);
        kept while `base` lives (it is held here, so its id cannot name another dict meanwhile)."""
        plain = dict(base)
        cleaned, text = self.attributes_text(plain)
        known = (base, text[1:-1] if cleaned is plain else None)
        if len(self._based) >= _BASES:
            self._based.clear()
        self._based[id(base)] = known
        return known

    def _fragment(self, key: Any, value: Any) -> tuple[str, Any] | None:
        """A short ASCII string's fragment and cleaned value, cached (only those pairs are: a string never
        equals another type's value, so a lookup with a number or a flag cannot hit them); else None."""
        if not (type(value) is str and type(key) is str and len(value) <= _CACHED_CHARS and value.isascii()
                and key.isascii()):
            return None
        if len(value) <= self.max_chars and PLAIN_TEXT(value) is not None and not self.rules.attribute_sensitive(key):
            # What `value` would make of it, the short way: a value unique per invocation (a request id) is
            # never in the cache, and is nearly always such text.
            clean: Any = value
            fragment = _name_text(key) + '"' + value + '"'
        else:
            clean = self.value(key, value)
            fragment = _name_text(key) + wire.dumps_scrubbed(clean)
        distinct = self._distinct.get(key, 0)
        if distinct < _DISTINCT_VALUES:
            self._distinct[key] = distinct + 1
            fragments = self._fragments
            if len(fragments) >= _CACHE_SIZE:
                fragments.clear()
            fragments[(key, value)] = fragment if clean is value else (fragment, clean)
        elif len(self._unique) < _CACHE_SIZE and not self.rules.attribute_sensitive(key):
            self._unique[key] = _name_text(key)  # its values never repeat: caching them would only churn
        return fragment, clean

    def attributes(self, attributes: Any) -> dict[str, Any]:
        """Attributes as written; the same dict when nothing needed changing (the common case).

        The hot path: short string values repeat across invocations (routes, ARNs, user agents),
        so their cleaned form is cached by (name, value); booleans and numbers of names outside the
        sensitive families pass untouched.
        """
        if not isinstance(attributes, dict):
            self.fixed["scrub.bad_attributes"] += 1
            return {}
        out: dict[str, Any] | None = None
        cache = self._cache
        sensitive = self.rules.attribute_sensitive
        for key, value in attributes.items():
            kind = type(value)
            plain_key = type(key) is str and key.isascii()
            if plain_key and kind is str and len(value) <= _CACHED_CHARS and value.isascii():
                pair = (key, value)
                clean = cache.get(pair)
                if clean is None:
                    clean = self.value(key, value)
                    if len(cache) >= _CACHE_SIZE:
                        cache.clear()
                    cache[pair] = clean
                if clean is value or clean == value:
                    continue
                clean_key = key
            elif plain_key and (kind is bool or ((kind is int or (kind is float and math.isfinite(value)))
                                                 and not sensitive(key))):
                continue
            else:
                clean_key = key if plain_key else self.text(str(key))
                clean = self.value(clean_key, value)
                if clean is value and clean_key is key:
                    continue
            if out is None:
                out = dict(attributes)
            if clean_key is not key or clean is None:
                del out[key]
            if clean is not None:
                out[clean_key] = clean
        return attributes if out is None else out

    def value(self, key: str, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            text = self.text(value)
            if len(text) > self.max_chars:
                text = text[:self.max_chars]
            cleaned = self.rules.value(key, text)
            return value if cleaned == value else cleaned
        if kind is bool:
            return value
        if kind is int or kind is float:
            number = strict_number(value) if kind is float else value
            if number is not value:
                self.fixed["scrub.non_finite"] += 1
            return self.rules.value(key, number)
        if kind is list or kind is tuple:
            return self._list(key, value)
        if value is None:
            return None
        self.fixed["scrub.non_scalar"] += 1
        return self.rules.text(self.text(capture(value, frozenset(), frozenset(), self.max_chars)))

    def _list(self, key: str, values: list[Any] | tuple[Any, ...]) -> Any:
        if self.rules.attribute_sensitive(key):
            return self.rules.value(key, values)
        items = []
        for item in values[:MAX_LIST_ITEMS]:
            kind = type(item)
            if kind is str:
                item = self.rules.text(self.text(item)[:self.max_chars])
            elif kind is float:
                item = strict_number(item)
            elif kind is not bool and kind is not int:
                item = self.value(key, item)
                if isinstance(item, list):
                    item = str(item)
            items.append(item)
        if len(values) > MAX_LIST_ITEMS:
            self.fixed["scrub.list_cut"] += 1
        if _same_items(items, values):
            return values
        return items

    def text(self, text: str) -> str:
        clean = encodable(text)
        if clean is not text:
            self.fixed["scrub.unencodable_text"] += 1
        return clean


def _name_text(name: str) -> str:
    text = _NAMES.get(name)
    if text is None:
        text = wire.dumps_scrubbed(name) + ":"
        if len(_NAMES) < _CACHE_SIZE:
            _NAMES[name] = text
    return text


def _same_items(items: list[Any], values: list[Any] | tuple[Any, ...]) -> bool:
    """Whether the cleaned list holds the very same items (then the original is kept)."""
    if type(values) is not list or len(items) != len(values):
        return False
    return all(a is b for a, b in zip(items, values, strict=True))


def scrub(spans: list[dict[str, Any]], resource: dict[str, Any], max_chars: int = 4096,
          rules: Rules = RULES) -> Counter[str]:
    """Clean `spans` and `resource` in place; returns the counts of what was fixed."""
    scrubber = Scrubber(max_chars, rules)
    cleaned = scrubber.attributes(resource)
    if cleaned is not resource:
        resource.clear()
        resource.update(cleaned)
    return scrub_spans(spans, max_chars, rules, scrubber.fixed)


def scrub_spans(spans: list[dict[str, Any]], max_chars: int = 4096, rules: Rules = RULES,
                counts: Counter[str] | None = None) -> Counter[str]:
    """`scrub` without the resource (which `hoptrace.output` cleans once per process)."""
    scrubber = scrubber_for(max_chars, rules, counts)
    span = scrubber.span
    for each in spans:
        span(each)
    return scrubber.fixed


def scrub_texts(spans: list[dict[str, Any]], max_chars: int = 4096, rules: Rules = RULES,
                counts: Counter[str] | None = None) -> tuple[list[str], Counter[str]]:
    """`scrub_spans`, and each cleaned span's wire JSON text (`Scrubber.span_text`)."""
    scrubber = scrubber_for(max_chars, rules, counts)
    text = scrubber.span_text
    return list(map(text, spans)), scrubber.fixed  # no comprehension: its frame is one more call


def scrubber_for(max_chars: int, rules: Rules, counts: Counter[str] | None) -> Scrubber:
    """The one scrubber per rules and limit (built once), counting into `counts`."""
    key = (id(rules), max_chars)
    scrubber = _SCRUBBERS.get(key)
    if scrubber is None or scrubber.rules is not rules:
        scrubber = _SCRUBBERS[key] = Scrubber(max_chars, rules)
    scrubber.fixed = Counter() if counts is None else counts
    return scrubber


def _unprintable_ints(value: Any, depth: int = 0) -> bool:
    """Replace, in place, every integer of `value` (a span, its attributes, events, links) that Python will not
    write as text; True when there was one. A time becomes the largest the wire takes, an attribute a marker."""
    changed = False
    if type(value) is dict or type(value) is BasedAttributes:
        items: Iterable[tuple[Any, Any]] = list(value.items())
    elif type(value) is list:
        items = enumerate(value)
    else:
        return False
    for key, item in items:
        if type(item) is int:
            try:
                int.__repr__(item)
            except ValueError:
                value[key] = (MAX_TIME if item > 0 else 1) if key in ("start", "end", "time") and depth in (0, 2) else (
                    f"[integer of {item.bit_length()} bits, too long to write]")
                changed = True
        elif depth < 4 and _unprintable_ints(item, depth + 1):
            changed = True
    if changed and type(value) is BasedAttributes:
        value.base = None  # its items no longer begin with the base's
    return changed
