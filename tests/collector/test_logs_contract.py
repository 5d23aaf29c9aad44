"""Application log lines in both stores: kept per invocation, in order, once, and aged out with retention."""

from __future__ import annotations

from hoptrace_collector.store import LogLine, Store
from tests.collector.test_store_contract import MS, NOW, span


def line(request_id: str, n: int, message: str, *, function: str = "payments", level: str = "",
         at_ms: float | None = None) -> LogLine:
    return LogLine(function, request_id, NOW + int((n if at_ms is None else at_ms) * MS), f"{n:056d}", message,
                   level, "2026/12/01/[$LATEST]abc")


def test_lines_are_read_per_invocation_in_time_order(any_store: Store) -> None:
    # GIVEN lines of two invocations of one function and one of another, written out of order
    any_store.write_logs([line("r1", 2, "second"), line("r2", 0, "other request"), line("r1", 1, "first"),
                          line("r1", 3, "boom", level="ERROR"), line("r1", 4, "elsewhere", function="orders")])
    # WHEN one invocation's lines are read
    lines = any_store.invocation_logs([("payments", "r1")])
    # THEN exactly its lines come back, oldest first, with their level
    assert [(x.message, x.level) for x in lines] == [("first", ""), ("second", ""), ("boom", "ERROR")]
    assert lines[2].is_error
    both = any_store.invocation_logs([("payments", "r1"), ("payments", "r2")])
    assert [x.message for x in both] == ["other request", "first", "second", "boom"]


def test_rewriting_the_same_lines_changes_nothing(any_store: Store) -> None:
    batch = [line("r1", 1, "a"), line("r1", 2, "b")]
    any_store.write_logs(batch)
    any_store.write_logs(batch)
    assert [x.message for x in any_store.invocation_logs([("payments", "r1")])] == ["a", "b"]


def test_lines_of_the_same_millisecond_keep_their_logged_order(any_store: Store) -> None:
    any_store.write_logs([line("r1", n, f"m{n}", at_ms=5) for n in (3, 1, 2)])
    assert [x.message for x in any_store.invocation_logs([("payments", "r1")])] == ["m1", "m2", "m3"]


def test_unicode_and_long_lines_round_trip(any_store: Store) -> None:
    text = "zahlung fehlgeschlagen: 💳 ünd \u2028 " + "x" * 9000
    any_store.write_logs([line("r1", 1, text)])
    assert any_store.invocation_logs([("payments", "r1")])[0].message == text


def test_many_lines_of_one_invocation_are_all_kept(any_store: Store) -> None:
    any_store.write_logs([line("r1", n, "y" * 4000) for n in range(150)])  # 600 KB: several DynamoDB items
    assert len(any_store.invocation_logs([("payments", "r1")])) == 150


def test_retention_removes_old_lines(any_store: Store) -> None:
    any_store.write_logs([line("old", 1, "old", at_ms=-10_000), line("new", 1, "new", at_ms=10_000)])
    any_store.write([span(1, 1, start_ms=10_000)])
    any_store.delete_older_than(NOW)
    assert any_store.invocation_logs([("payments", "old")]) == []
    assert [x.message for x in any_store.invocation_logs([("payments", "new")])] == ["new"]


def test_unknown_invocations_have_no_lines(any_store: Store) -> None:
    assert any_store.invocation_logs([("payments", "nobody")]) == []
    assert any_store.invocation_logs([]) == []
