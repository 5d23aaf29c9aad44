"""A plain REPORT line (ingest/platform.py `_PLAIN_REPORT`) is read in one match: the record must be the
one the general field-by-field path gives, for the real platform's lines and for near misses."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import collector_data
from hoptrace_collector.ingest import platform
from hoptrace_collector.store.model import InvocationRecord
from tests.collector import payloads

_NEVER = re.compile(r"(?!)")


def _both(message: str, trace_id: str | None = None) -> tuple[InvocationRecord | None, InvocationRecord | None,
                                                             platform.PlatformLine | None]:
    """(record by the fast path, record by the general path, the fast path's line)."""
    fast_line = platform.parse(message, 1_000)
    fast = platform.to_invocation(fast_line, "fn", "/aws/lambda/fn", "s", trace_id) if fast_line else None
    saved = platform._PLAIN_REPORT
    platform._PLAIN_REPORT = _NEVER
    try:
        slow_line = platform.parse(message, 1_000)
    finally:
        platform._PLAIN_REPORT = saved
    slow = platform.to_invocation(slow_line, "fn", "/aws/lambda/fn", "s", trace_id) if slow_line else None
    return fast, slow, fast_line


def _real_reports() -> list[str]:
    events, _ = collector_data.subscription_batches(300)
    from hoptrace_collector.ingest.payload import decode_subscription

    return [e.message for event in events for e in decode_subscription(event).events if e.message.startswith("REPORT")]


def test_the_workloads_reports_take_the_fast_path_and_give_the_same_records() -> None:
    reports = _real_reports()
    assert reports
    for message in reports:
        for trace_id in (None, "0af7651916cd43dd8448eb211c80319c"):
            fast, slow, line = _both(message, trace_id)
            assert line is not None and line.figures is not None, message
            assert fast is not None and slow is not None
            assert fast == slow and type(fast.billed_ms) is type(slow.billed_ms)


@pytest.mark.parametrize("message", [
    payloads.report_line("r-1", 12.5),
    payloads.report_line("r-1", 12.5) + "\n",
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t",
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t"
    "Init Duration: 100.00 ms\t\n",
    # not plain: each goes the long way, with what it says kept
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t"
    "Status: error\tError Type: Runtime.OutOfMemory",
    "REPORT RequestId: r-1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 50 MB\tStatus: timeout",
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t"
    "XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t",
    "REPORT RequestId: r-1\tDuration: inf ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t",
    "REPORT RequestId: r-1\tDuration: 1e5 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t",
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 1180591620717411303424 MB\t"
    "Max Memory Used: 50 MB\t",
    "REPORT RequestId: r-1\tDuration: \u0663.00 ms\tBilled Duration: \u0663 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 50 MB\t",  # Arabic-Indic digits: float() reads them, the plain pattern does not
    "REPORT RequestId: r-1  Duration: 3.00 ms  Billed Duration: 3 ms  Memory Size: 128 MB  Max Memory Used: 50 MB",
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\tx",
    "REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t"
    "Init Duration: 1.0 ms\tInit Duration: 2.0 ms\t",
])
def test_a_plain_report_gives_what_the_general_path_gives(message: str) -> None:
    fast, slow, _ = _both(message)
    assert fast == slow


def test_only_plain_reports_take_the_fast_path() -> None:
    _, _, line = _both("REPORT RequestId: r-1\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
                       "Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert line is not None and line.figures is None and line.fields is not None


_FIGURE = st.one_of(st.integers(0, 10**16).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
                    st.from_regex(r"[0-9]{1,16}\.[0-9]{0,10}", fullmatch=True), st.text(max_size=6))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12), _FIGURE, _FIGURE, _FIGURE, _FIGURE, st.one_of(st.none(), _FIGURE),
       st.sampled_from(["", "\t", "\n", "\t\n", "\r\n", " \t", "\tStatus: error", "\tx"]))
def test_any_report_shaped_line_gives_the_same_record_either_way(rid: str, duration: str, billed: str, memory: str,
                                                                  used: str, init: str | None, tail: str) -> None:
    message = (f"REPORT RequestId: {rid}\tDuration: {duration} ms\tBilled Duration: {billed} ms\t"
               f"Memory Size: {memory} MB\tMax Memory Used: {used} MB"
               + (f"\tInit Duration: {init} ms" if init is not None else "") + tail)
    fast, slow, _ = _both(message)
    assert fast == slow
