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
from typing import Any

from hoptrace.redaction import RULES, Rules, capture

MAX_LIST_ITEMS = 128
_CACHED_CHARS = 200
_CACHE_SIZE = 4096
_CACHES: dict[tuple[int, int], dict[tuple[str, str], Any]] = {}  # per (rules, max_chars): cleaned short values
_SCRUBBERS: dict[tuple[int, int], Scrubber] = {}
_SURROGATE = re.compile("[\ud800-\udfff]")  # one U+FFFD per lone surrogate
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


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
        self._cache = _CACHES.setdefault((id(rules), max_chars), {})

    def span(self, span: dict[str, Any]) -> None:
        name = span.get("name")
        if isinstance(name, str):
            span["name"] = self.text(name)[:1024]
        attributes = span.get("attributes")
        if attributes:
            span["attributes"] = self.attributes(attributes)
        status = span.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            status["message"] = self.rules.text(self.text(status["message"]))
        for key in ("events", "links"):
            for item in span.get(key) or ():
                if isinstance(item, dict):
                    if isinstance(item.get("name"), str):
                        item["name"] = self.text(item["name"])[:1024]
                    if item.get("attributes"):
                        item["attributes"] = self.attributes(item["attributes"])

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
    key = (id(rules), max_chars)
    scrubber = _SCRUBBERS.get(key)
    if scrubber is None or scrubber.rules is not rules:
        scrubber = _SCRUBBERS[key] = Scrubber(max_chars, rules)  # one per rules and limit: built once
    scrubber.fixed = Counter() if counts is None else counts
    span = scrubber.span
    for each in spans:
        span(each)
    return scrubber.fixed
