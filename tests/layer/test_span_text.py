"""The layer's span text (cleaned attributes joined from cached fragments) is exactly what cleaning the
span and encoding it whole gives, the first time and every time after, and never lets a secret through.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hoptrace import wire
from hoptrace.redaction import REDACTED, rules
from hoptrace.scrub import Scrubber, scrub_texts

BASE: dict[str, Any] = {"trace_id": "5f000000000000000000000000000032", "span_id": "7c4aad76118dda90",
                        "parent_id": None, "name": "send \"q\" é", "kind": "producer", "start": 1, "end": 2,
                        "status": {"code": "unset"}}
ATTRIBUTES: list[dict[str, Any]] = [
    {"faas.trigger": "timer", "faas.coldstart": False, "http.status_code": 200, "ratio": 0.5},
    {"db.password": "hunter2", "app.token": "abc", "url.full": "https://u:pw@example.com/x?api_key=s3cret"},
    {"auth": "Bearer eyJhbGciOi.abc.def", "quote": 'say "hi"\n\t\\', "empty": ""},
    {"surrogate \ud800": "v", "body": "tail \udfff", "é": "ü"},
    {"long": "x" * 5000, "list": ["a", 1, True], "tuple": ("b", 2.5), "nested": {"a": {"b": [1, 2]}}},
    {"nan": float("nan"), "inf": float("-inf"), "none": None, 7: "int key", "big": 2**70},
    {"session.id": "s", "session": True, "retries": 3, "secret.count": 4},
    {"aws.request_id": "c6af9ac6-7b61", "app.api_key": "hunter2-ab.c_d", "token": "hunter2", "x": "Bearer.abc-d"},
]


def _reference(span: dict[str, Any], scrubber: Scrubber) -> tuple[dict[str, Any], str]:
    span = copy.deepcopy(span)
    scrubber.span(span)
    return span, wire.dumps_scrubbed(span)


@pytest.mark.parametrize("attributes", ATTRIBUTES)
def test_span_text_is_the_cleaned_span_encoded_whole_cold_and_cached(attributes: dict[str, Any]) -> None:
    # GIVEN a span with attributes of every kind a handler can set (secrets, escapes, surrogates, non-scalars)
    span = {**BASE, "attributes": attributes,
            "events": [{"name": "e", "time": 3, "attributes": {"password": "p"}}]}
    expected_span, expected = _reference(span, Scrubber(100))
    for _ in range(3):  # the first pass fills the fragment cache, the next ones read it
        # WHEN the layer makes its text
        fresh = copy.deepcopy(span)
        text = Scrubber(100).span_text(fresh)
        # THEN it is byte for byte the whole encoding of the cleaned span, which is cleaned in place as before
        assert json.loads(text) == json.loads(expected)
        if not any(type(k) is not str or not k.isascii() for k in attributes):
            assert text == expected
        assert fresh == expected_span
    assert "hunter2" not in text and "s3cret" not in text and "eyJhbGciOi" not in text


def test_a_cached_fragment_is_never_reused_under_other_rules() -> None:
    # GIVEN a value cached as harmless under the default rules
    plain = Scrubber(100)
    span = {**BASE, "attributes": {"app.flavour": "vanilla"}}
    assert "vanilla" in plain.span_text(copy.deepcopy(span))
    # WHEN rules that name "flavour" as sensitive clean the same pair
    strict = Scrubber(100, rules(frozenset({"flavour"})))
    text = strict.span_text(copy.deepcopy(span))
    # THEN the value is masked: the cache is keyed by the rules (and the limit), not shared
    assert "vanilla" not in text and REDACTED in text
    assert "x" * 11 not in Scrubber(10).span_text({**BASE, "attributes": {"k": "x" * 50}})


def test_scrub_texts_counts_what_it_fixed() -> None:
    spans = [{**BASE, "attributes": {"k": "a\ud800", "n": float("nan")}}]
    texts, counts = scrub_texts(spans, 100)
    assert counts["scrub.unencodable_text"] == 1 and counts["scrub.non_finite"] == 1
    assert json.loads(texts[0])["attributes"] == {"k": "a\ufffd", "n": "NaN"} == spans[0]["attributes"]


def test_a_name_whose_values_never_repeat_stops_filling_the_cache_and_is_still_cleaned() -> None:
    # GIVEN one scrubber writing many spans whose request ids (and a token under a sensitive name) never repeat
    scrubber = Scrubber(100)
    texts = []
    for number in range(300):
        span = {**BASE, "attributes": {"aws.request_id": f"c6af9ac6-7b61-11e6-{number:012d}",
                                       "app.token": f"tok{number:05d}", "note": f"see key=hunter{number}"}}
        expected_span, expected = _reference(span, Scrubber(100))
        fresh = copy.deepcopy(span)
        # WHEN the layer makes their text
        texts.append(scrubber.span_text(fresh))
        # THEN every one is exactly the cleaned span's encoding, cleaned in place as before
        assert texts[-1] == expected and fresh == expected_span
    # AND the ids stopped going into the fragment cache after a bounded number of them
    ids = [value for name, value in scrubber._fragments
           if name == "aws.request_id" and value.startswith("c6af9ac6-7b61-11e6-")]
    assert 0 < len(ids) <= 64
    # AND no secret got through, neither under the sensitive name nor in free text
    joined = "\n".join(texts)
    assert "tok0" not in joined and "hunter" not in joined and "c6af9ac6-7b61-11e6-000000000299" in joined
