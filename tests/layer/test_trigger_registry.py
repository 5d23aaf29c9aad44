"""The trigger registry's key pre-filter never hides a trigger from an event it would claim."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoptrace.triggers import NEEDS_ONE_OF, TRIGGERS, detect, trigger
from tests.conftest import all_event_names, load_event


@pytest.mark.parametrize("name", all_event_names())
def test_every_fixture_that_a_trigger_claims_has_one_of_its_keys(name: str) -> None:
    event = load_event(name)
    if not isinstance(event, dict):
        return
    for position, module_name in enumerate(TRIGGERS):
        if trigger(position).matches(event) and module_name in NEEDS_ONE_OF:
            assert any(key in event for key in NEEDS_ONE_OF[module_name]), (module_name, name)


KEYS = sorted({key for keys in NEEDS_ONE_OF.values() for key in keys} | {"detail", "headers", "records", "messages"})
values = st.one_of(st.text(max_size=8), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
                   st.lists(st.dictionaries(st.sampled_from(["eventSource", "EventSource", "cf"]),
                                            st.sampled_from(["aws:sqs", "aws:sns", "aws:s3"]), max_size=2),
                            max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=5))
def test_removing_a_triggers_keys_means_it_cannot_match(event: dict[str, Any]) -> None:
    # For hostile shapes too: a trigger that claims an event always finds one of its keys in it.
    for position, module_name in enumerate(TRIGGERS):
        if module_name in NEEDS_ONE_OF and not any(key in event for key in NEEDS_ONE_OF[module_name]):
            assert not trigger(position).matches(event), module_name
    detect(event, None, __import__("hoptrace.config", fromlist=["default"]).default())
