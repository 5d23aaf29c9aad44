"""Ingest's fast paths for the platform's lines store exactly what the general path stores.

START / END lines are taken as marks without a `PlatformLine` (`platform.bound`) and a plain REPORT in
one match (`platform._PLAIN_REPORT`). Here the same payloads go through ingest twice, into two fresh
stores: as shipped, and with both fast paths turned off (every platform line through `platform.parse`
field by field). Every table of the two stores must be equal, row for row, and so must the summaries
(counts and problems): the bench workload as the real layer prints it (with application lines and
without, plain and compressed span lines), hand-made near misses, and the hostile payloads the fuzz
suite generates.
"""

from __future__ import annotations

import re
import sqlite3
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks import collector_data
from hoptrace_collector.ingest import batch, platform
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store
from tests.collector import payloads
from tests.reliability.test_fuzz_collector import documents


@contextmanager
def general_path() -> Iterator[None]:
    """Both fast paths off: no line is a START / END mark before `platform.parse` has read it, and no
    REPORT is plain."""
    saved_module, saved_report = batch.platform, platform._PLAIN_REPORT
    batch.platform = types.SimpleNamespace(**{**vars(platform), "bound": lambda message: None})  # type: ignore[assignment]  # a stand-in module
    platform._PLAIN_REPORT = re.compile(r"(?!)")
    try:
        yield
    finally:
        batch.platform, platform._PLAIN_REPORT = saved_module, saved_report


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: sorted(conn.execute(f"SELECT * FROM {n}"), key=repr) for n in names}
    finally:
        conn.close()


def _ingest(events: list[dict[str, Any]], path: Path, many: bool) -> tuple[Any, dict[str, list[tuple[Any, ...]]]]:
    store = open_store(str(path))
    ingestor = Ingestor(store)
    summary: Any = ingestor.ingest_many(events) if many else [ingestor.ingest(event) for event in events]
    store.close()
    return summary, _tables(path)


def _same_either_way(events: list[dict[str, Any]], folder: Path, many: bool = True) -> dict[str, list[Any]]:
    fast = _ingest(events, folder / "fast.db", many)
    with general_path():
        slow = _ingest(events, folder / "slow.db", many)
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    return fast[1]


@pytest.mark.parametrize("app, compress", [(0, False), (3, False), (2, True)])
def test_the_layers_lines_are_stored_alike_either_way(tmp_path: Path, app: int, compress: bool) -> None:
    events, total = collector_data.subscription_batches(1500, app=app, compress=compress)
    tables = _same_either_way(events, tmp_path)
    assert len(tables["spans"]) == total and tables["invocations"]
    if app:
        assert tables["log_lines"]


def test_a_payload_at_a_time_is_stored_alike_either_way(tmp_path: Path) -> None:
    events, _ = collector_data.subscription_batches(400, app=1)
    _same_either_way(events, tmp_path, many=False)


def test_near_misses_of_platform_lines_are_stored_alike_either_way(tmp_path: Path) -> None:
    rid, other = payloads.REQUEST_ID, "0b1c2d3e-0000-4000-8000-000000000000"
    messages = [
        "printed before any START (the init phase)\n",
        payloads.start_line(rid), "START RequestId: \n", "START RequestId:\n", "END RequestId: \n",
        "START Request: nope\n", "END RequestIdentifier\n", "START RequestId: x Task timed out after 3.00 seconds\n",
        "2026-11-25T10:00:00.000Z\tabc\tINFO\tsomething logged\n",
        "[INFO]\t2026-11-25T10:00:00.000Z\t" + rid + "\tnamed\n",
        payloads.report_line(rid, 12.5, init=400.0), payloads.report_line(rid, 12.5, extra="Status: error"),
        payloads.end_line(rid), "after the END, before the next START\n",
        payloads.start_line(other), payloads.timeout_line(other), payloads.end_line(other),
        payloads.report_line(other, 3000.0, extra="Status: timeout"),
        f"RequestId: {other} Error: Runtime exited with error: signal: killed\n",
        payloads.start_line("left-open"), "a line of the invocation still open\n",
    ]
    _same_either_way([payloads.subscription_event(messages)], tmp_path)
    _same_either_way([payloads.subscription_event(["lines alone, no START or END\n"] * 3),
                      payloads.subscription_event([payloads.end_line("left-open")])], tmp_path / "b")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(documents())
def test_hostile_payloads_are_stored_alike_either_way(tmp_path_factory: pytest.TempPathFactory,
                                                      case: tuple[dict[str, Any], Any]) -> None:
    _same_either_way([case[0]], tmp_path_factory.mktemp("hostile"))
