"""`records.layer_records` (log ingest's one-pass span path) builds exactly what the long way builds.

The long way is `wire.validate_span`, `records.out_of_range` and `records.to_record` per span; the
fast path must give equal records, the same problems, and drop only the bad spans.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hoptrace_collector.ingest.problems import Problems
from hoptrace_collector.ingest.records import DEFAULT_LIMITS, Limits, checked_record, layer_records

RESOURCE = {"service.name": "orders", "faas.name": "orders-api"}


def _span(**changes: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331", "parent_id": None,
        "name": "orders-api invocation", "kind": "server", "start": 1_700_000_000_000_000_000,
        "end": 1_700_000_000_050_000_000, "status": {"code": "ok"},
        "attributes": {"faas.invocation_id": "req-1", "faas.coldstart": True, "hoptrace.trigger": "sqs",
                       "http.response.status_code": 200, "ratio": 0.5}}
    span.update(changes)
    return span


def _long_way(spans: list[Any], limits: Limits, problems: Problems) -> list[Any]:
    records = [checked_record(span, index, RESOURCE, "orders", "orders-api", limits, problems)
               for index, span in enumerate(spans)]
    return [record for record in records if record is not None]


def _same(spans: list[Any], limits: Limits = DEFAULT_LIMITS, short: bool = False) -> list[Any]:
    fast_problems, slow_problems = Problems(), Problems()
    fast = layer_records(copy.deepcopy(spans), RESOURCE, "orders", "orders-api", limits, fast_problems, short)
    slow = _long_way(copy.deepcopy(spans), limits, slow_problems)
    assert fast == slow
    assert fast_problems.counts == slow_problems.counts
    assert fast_problems.samples == slow_problems.samples
    return fast


def test_a_clean_span_is_built_as_the_long_way_builds_it() -> None:
    [record] = _same([_span()])
    assert (record.request_id, record.cold_start, record.trigger, record.status) == ("req-1", True, "sqs", "ok")
    assert record.attributes["http.response.status_code"] == 200


def test_only_the_bad_spans_of_a_line_are_dropped_and_each_is_counted() -> None:
    spans = [
        _span(), _span(trace_id="0" * 32), _span(span_id="XYZ"), _span(parent_id="0" * 16),
        _span(start=5, end=4), _span(end=2**63), _span(kind="weird"), _span(status={"code": "fine"}),
        _span(attributes=None), _span(name=7), "not a span", _span(span_id="c7ad6b7169203331"),
    ]
    records = _same(spans)
    assert [r.span_id for r in records] == ["b7ad6b7169203331", "c7ad6b7169203331"]


def test_spans_that_need_cleaning_take_the_long_way() -> None:
    limits = Limits(max_attribute_chars=16, max_attributes=3, max_name_chars=8)
    spans = [
        _span(attributes={"a": "x" * 40}),  # cut to 16
        _span(attributes={"a": None, "b": 1}),  # None dropped
        _span(attributes={"nested": {"deep": [1, {"x": 2}]}}),  # JSON text
        _span(attributes={f"k{i}": i for i in range(10)}),  # over max_attributes
        _span(attributes={"list": ["a", "b"]}),
        _span(name="a much longer name"),  # cut to 8
        _span(status={"code": "error", "message": "m" * 40}),
        _span(events=[{"name": "e", "time": 1, "attributes": {}}]),
        _span(links=[{"trace_id": "1" * 32, "span_id": "2" * 16}]),
        {k: v for k, v in _span().items() if k != "attributes"},  # no attributes at all
        _span(attributes={"hoptrace.pending": True, "faas.invocation_id": 5}),
    ]
    _same(spans, limits)


def test_a_short_line_skips_the_string_length_check_only_when_it_cannot_matter() -> None:
    # `short` promises the whole line is within max_attribute_chars: then no string is longer
    _same([_span(attributes={"a": "x" * 10})], Limits(max_attribute_chars=4096), short=True)


_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=150, deadline=None)
@given(attributes=st.dictionaries(st.text(max_size=20), _values, max_size=8),
       status=st.sampled_from([{"code": "ok"}, {"code": "error", "message": "boom"}, {"code": "unset"}, {}]),
       parent=st.sampled_from([None, "a7ad6b7169203331", "bad", 3]))
def test_any_attribute_map_gives_the_long_way_s_record(attributes: dict[str, Any], status: dict[str, Any],
                                                       parent: Any) -> None:
    _same([_span(attributes=attributes, status=status, parent_id=parent)], Limits(max_attribute_chars=20,
                                                                                 max_attributes=6))
