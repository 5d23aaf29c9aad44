"""Lambda event filtering / EventBridge patterns (unit): each matcher, arrays in the event, nesting, $or, and
what SQS bodies, Kinesis data and DynamoDB stream records look like to a filter."""

from __future__ import annotations

import base64
import json

import pytest

from hoptrace_localcloud.eventpattern import (
    PatternError,
    compile_filters,
    kinesis_filter_view,
    matches,
    parse_pattern,
    sqs_filter_view,
)

EVENT = {"source": "shop.orders", "detail": {"amount": 42.5, "state": "PAID", "tags": ["vip", "eu"],
                                            "ip": "10.0.3.7", "note": None, "count": 3}}


@pytest.mark.parametrize("pattern, expected", [
    ({"source": ["shop.orders"]}, True),
    ({"source": ["shop.payments"]}, False),
    ({"source": [{"prefix": "shop."}]}, True),
    ({"source": [{"prefix": {"equals-ignore-case": "SHOP."}}]}, True),
    ({"source": [{"suffix": ".orders"}]}, True),
    ({"detail": {"state": [{"equals-ignore-case": "paid"}]}}, True),
    ({"detail": {"state": [{"anything-but": "PAID"}]}}, False),
    ({"detail": {"state": [{"anything-but": ["NEW", "CANCELLED"]}]}}, True),
    ({"detail": {"state": [{"anything-but": {"prefix": "PA"}}]}}, False),
    ({"detail": {"amount": [{"numeric": [">", 40, "<=", 50]}]}}, True),
    ({"detail": {"amount": [{"numeric": [">", 50]}]}}, False),
    ({"detail": {"count": [3]}}, True),
    ({"detail": {"count": [3.0]}}, True),
    ({"detail": {"count": ["3"]}}, False),  # a string is not the number
    ({"detail": {"tags": ["eu"]}}, True),  # arrays match when any element does
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"missing": [{"exists": True}]}}, False),
    ({"detail": {"state": [{"exists": True}]}}, True),
    ({"detail": {"note": [None]}}, True),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/16"}]}}, True),
    ({"detail": {"ip": [{"cidr": "192.168.0.0/16"}]}}, False),
    ({"detail": {"state": [{"wildcard": "P*D"}]}}, True),
    ({"$or": [{"source": ["x"]}, {"detail": {"count": [3]}}]}, True),
    ({"$or": [{"source": ["x"]}, {"detail": {"count": [4]}}]}, False),
    ({"nested": {"deep": ["x"]}}, False),
])
def test_matchers(pattern, expected):
    assert matches(parse_pattern(json.dumps(pattern)), EVENT) is expected


@pytest.mark.parametrize("bad", ["not json", "[1]", '{"a": "scalar"}', '{"a": [{"regex": "x"}]}',
                                 '{"$or": {"a": [1]}}'])
def test_invalid_patterns_are_one_clear_error(bad):
    with pytest.raises(PatternError):
        parse_pattern(bad)


def test_filters_are_ored_and_json_bodies_are_matched_as_objects():
    keep = compile_filters({"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})},
                                        {"Pattern": json.dumps({"body": [{"prefix": "PING"}]})}]})
    assert keep is not None
    assert keep(sqs_filter_view({"body": json.dumps({"kind": "order"})}))
    assert keep(sqs_filter_view({"body": "PING 1"}))
    assert not keep(sqs_filter_view({"body": json.dumps({"kind": "refund"})}))
    assert not keep(sqs_filter_view({"body": "{broken json"}))
    assert compile_filters(None) is None and compile_filters({"Filters": []}) is None


def test_hostile_events_do_not_raise():
    pattern = parse_pattern({"a": {"b": [{"numeric": [">", 1]}, {"prefix": "x"}]}})
    for event in (None, [], "text", {"a": "scalar"}, {"a": {"b": [[1, 2], {"x": 1}, True, float("nan")]}},
                  {"a": {"b": "\udcff\u202e"}}):
        assert matches(pattern, event) is False


def _kinesis(data: bytes) -> dict:
    return {"kinesis": {"partitionKey": "p", "sequenceNumber": "1", "data": base64.b64encode(data).decode()}}


def test_kinesis_records_are_filtered_on_their_data_decoded_as_json():
    keep = compile_filters({"Filters": [{"Pattern": json.dumps({"data": {"kind": ["click"],
                                                                         "ms": [{"numeric": [">", 100]}]}})}]})
    assert keep is not None
    assert keep(kinesis_filter_view(_kinesis(b'{"kind": "click", "ms": 250}')))
    assert not keep(kinesis_filter_view(_kinesis(b'{"kind": "click", "ms": 5}')))
    assert not keep(kinesis_filter_view(_kinesis(b'{"kind": "view", "ms": 250}')))
    # data that is not JSON (or not even UTF-8) stays the base64 text, which an object pattern never matches
    for raw in (b"click 250", b"\xff\xfe", b""):
        view = kinesis_filter_view(_kinesis(raw))
        assert view == {"data": base64.b64encode(raw).decode()} and not keep(view)
    # only `data` is visible to a Kinesis filter, as Lambda documents
    assert kinesis_filter_view(_kinesis(b"[1]")) == {"data": [1]}
    assert not compile_filters({"Filters": [{"Pattern": '{"partitionKey": ["p"]}'}]})(
        kinesis_filter_view(_kinesis(b"{}")))


def test_dynamodb_records_are_filtered_as_delivered_with_type_descriptors():
    keep = compile_filters({"Filters": [{"Pattern": json.dumps({
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"status": {"S": ["PAID"]}, "total": {"N": [{"prefix": "1"}]}}}})}]})
    assert keep is not None

    def record(event_name: str, status: str, total: str = "12") -> dict:
        return {"eventName": event_name, "eventSource": "aws:dynamodb",
                "dynamodb": {"Keys": {"pk": {"S": "o-1"}},
                             "NewImage": {"pk": {"S": "o-1"}, "status": {"S": status}, "total": {"N": total}}}}

    assert keep(record("INSERT", "PAID")) and keep(record("MODIFY", "PAID", "150"))
    assert not keep(record("INSERT", "NEW")) and not keep(record("REMOVE", "PAID"))
    assert not keep(record("INSERT", "PAID", "42"))
    assert not keep({"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "o-1"}}}})
