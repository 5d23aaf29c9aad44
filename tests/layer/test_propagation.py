"""Trace-header formats, checked against aws-xray-sdk as the oracle for X-Ray."""

from __future__ import annotations

import time

import pytest
from aws_xray_sdk.core.models.trace_header import TraceHeader
from hypothesis import given
from hypothesis import strategies as st

from hoptrace.propagation import (
    format_traceparent,
    format_xray,
    from_lambda_environment,
    new_span_id,
    new_trace_id,
    parse_traceparent,
    parse_xray,
)

XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_traceparent_round_trips() -> None:
    # GIVEN a valid W3C header
    header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    # WHEN parsed and written back
    carried, problem = parse_traceparent(header)
    # THEN nothing is lost
    assert problem is None and carried is not None
    assert carried.sampled is True
    assert format_traceparent(carried.trace_id, carried.span_id, carried.sampled) == header


@pytest.mark.parametrize(
    "header",
    [
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero span id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # uppercase is invalid in W3C
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # v00 has exactly 4 fields
        "garbage",
        "",
    ],
)
def test_invalid_traceparent_is_rejected_with_a_reason(header: str) -> None:
    carried, problem = parse_traceparent(header, "test")
    assert carried is None
    assert problem and problem.startswith("test:")


def test_future_traceparent_version_keeps_known_fields() -> None:
    carried, problem = parse_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-future")
    assert problem is None and carried is not None and carried.sampled is False


def test_xray_header_matches_the_xray_sdk() -> None:
    # GIVEN the X-Ray SDK's own reading of a header
    oracle = TraceHeader.from_header_str(XRAY)
    # WHEN hoptrace parses the same header
    carried, problem = parse_xray(XRAY)
    # THEN both agree on every field, and the W3C id is Root's two hex parts joined
    assert problem is None and carried is not None
    assert f"{carried.trace_id:032x}" == oracle.root.replace("1-", "", 1).replace("-", "")
    assert f"{carried.span_id:016x}" == oracle.parent
    assert carried.sampled is (oracle.sampled == 1)


def test_written_xray_header_is_read_back_by_the_xray_sdk() -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    header = format_xray(trace_id, span_id, True)
    oracle = TraceHeader.from_header_str(header)
    assert oracle.root == f"1-{trace_id:032x}"[:10] + "-" + f"{trace_id:032x}"[8:]
    assert oracle.parent == f"{span_id:016x}"
    assert oracle.sampled == 1


def test_xray_sampled_zero_is_not_a_decision_and_lineage_is_ignored() -> None:
    carried, problem = parse_xray(
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1|68fd508a:5"
    )
    assert problem is None and carried is not None and carried.sampled is None


def test_xray_root_without_parent_keeps_the_trace() -> None:
    carried, problem = parse_xray("Root=1-5759e988-bd862e3fe1be46a994272793")
    assert problem is None and carried is not None
    assert carried.span_id is None and f"{carried.trace_id:032x}" == "5759e988bd862e3fe1be46a994272793"


@pytest.mark.parametrize("header", ["Root=garbage", "Root=1-5759e988-bd86;Parent=53995c3f42cd8ad8",
                                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz", "Sampled=1", None, 17])
def test_malformed_xray_is_rejected(header: object) -> None:
    carried, problem = parse_xray(header, "hdr")
    assert carried is None and problem


def test_trace_ids_are_xray_compatible() -> None:
    before = int(time.time())
    trace_id = new_trace_id()
    epoch = trace_id >> 96
    assert before <= epoch <= int(time.time())
    # The X-Ray SDK accepts it as a Root
    assert TraceHeader.from_header_str(format_xray(trace_id, new_span_id(), False)).root.startswith("1-")


@given(st.one_of(st.text(max_size=120), st.binary(max_size=60).map(lambda b: b.hex()), st.integers(), st.none()))
def test_parsers_never_raise(value: object) -> None:
    for parser in (parse_traceparent, parse_xray):
        carried, problem = parser(value)
        assert (carried is None) != (problem is None)  # exactly one: a context or a reason


def test_the_lambda_environment_header_follows_os_environ_as_the_runtime_sets_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the runtime setting `_X_AMZN_TRACE_ID` through os.environ before each invocation, as Lambda's does
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    # WHEN the layer reads it THEN it sees this invocation's value, not one read earlier
    carried, problem = from_lambda_environment()
    assert problem is None and carried is not None
    assert (carried.trace_id, carried.span_id, carried.source) == (0x5759e988bd862e3fe1be46a994272793,
                                                                    0x53995c3f42cd8ad8, "lambda-env")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-000000000000000000000001;Parent=0000000000000002")
    assert from_lambda_environment()[0] == (0x5759e988000000000000000000000001, 2, None, "lambda-env", "")
    # AND garbage (non-ASCII, as a misbehaving wrapper could set) is a located problem, never an exception
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a99427279é")
    carried, problem = from_lambda_environment()
    assert carried is None and problem is not None and problem.startswith("lambda-env:")
    # AND with it unset (a direct call outside Lambda) there is no parent and no problem
    monkeypatch.delenv("_X_AMZN_TRACE_ID")
    assert from_lambda_environment() == (None, None)
