"""Attributes an engine prepared once (an SDK call's, per queue) keep their text from span to span, and a
span whose prepared items change, or that carries a secret among them, is written exactly as any other."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

from hoptrace.config import Config
from hoptrace.engine.light import LightEngine
from hoptrace.scrub import Scrubber
from hoptrace.wire import BasedAttributes, dumps_scrubbed

PREPARED = {"rpc.system": "aws-api", "rpc.service": "SQS", "aws.sqs.queue.url": "https://sqs.example/123/q",
            "retries": 3, "flag": True}


def _reference(wire_span: dict[str, Any]) -> str:
    plain = json.loads(json.dumps(wire_span))  # plain dicts: no base to reuse
    Scrubber(100).span(plain)
    return dumps_scrubbed(plain)


def _finished(engine: LightEngine, prepared: Any, **later: Any) -> dict[str, Any]:
    span = engine.start_span("SQS.SendMessage", "producer", parent=None, attributes=prepared)
    for key, value in later.items():
        span.set_attribute(key, value)
    span.end()
    return engine.drain()[-1]


def test_spans_of_one_prepared_set_are_written_as_if_cleaned_whole_every_time() -> None:
    # GIVEN an engine's prepared attributes, shared by many spans, and one scrubber that writes them
    engine = LightEngine(Config())
    prepared = engine.prepared_attributes(PREPARED)
    scrubber = Scrubber(100)
    for number in range(3):
        # WHEN a span of them gains an attribute of its own and is written
        wire_span = _finished(engine, prepared, **{"messaging.message.id": f"id-{number}"})
        assert type(wire_span["attributes"]) is BasedAttributes
        expected = _reference(wire_span)
        # THEN its text is the whole cleaned span's, byte for byte (the second time from the base's text)
        assert scrubber.span_text(wire_span) == expected
    assert len(scrubber._based) == 1


def test_a_prepared_item_changed_or_evicted_is_written_as_it_now_is() -> None:
    # GIVEN spans of a prepared set whose own items a later call changes, one by one and in one step
    engine = LightEngine(Config())
    prepared = engine.prepared_attributes(PREPARED)
    scrubber = Scrubber(100)
    scrubber.span_text(_finished(engine, prepared))  # the base's text is known now
    changed = _finished(engine, prepared, **{"rpc.service": "SNS"})
    span = engine.start_span("x", "client", parent=None, attributes=prepared)
    span.set_attributes({"retries": 9, "new": "n"})
    span.end()
    in_one_step = engine.drain()[-1]
    for wire_span in (changed, in_one_step):
        # WHEN they are written
        text = scrubber.span_text(wire_span)
        # THEN each says what it holds now, never the base's old value
        assert text == _reference(wire_span)
    assert '"rpc.service":"SNS"' in scrubber.span_text(copy.deepcopy(changed))
    assert '"retries":9' in scrubber.span_text(in_one_step)


def test_a_secret_among_prepared_items_is_redacted_on_every_span() -> None:
    # GIVEN prepared attributes holding a credential in a URL and a sensitive name
    engine = LightEngine(Config())
    prepared = engine.prepared_attributes({"url.full": "https://u:pw@example.com/x?api_key=s3cret",
                                           "app.token": "hunter2"})
    scrubber = Scrubber(100)
    for _ in range(2):
        # WHEN spans of them are written
        wire_span = _finished(engine, prepared)
        text = scrubber.span_text(wire_span)
        # THEN no secret is in any line, and the text is what cleaning it whole gives
        assert "s3cret" not in text and "hunter2" not in text and ":pw@" not in text
        assert text == _reference(wire_span)


def test_based_attributes_copy_and_pickle_as_plain_attributes() -> None:
    engine = LightEngine(Config())
    wire_span = _finished(engine, engine.prepared_attributes(PREPARED))
    for copied in (copy.deepcopy(wire_span["attributes"]), pickle.loads(pickle.dumps(wire_span["attributes"]))):
        assert type(copied) is dict and copied == dict(wire_span["attributes"])
