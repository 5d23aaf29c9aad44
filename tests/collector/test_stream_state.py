"""A log stream's open invocation is kept in the store, so `print` lines split from their START by a batch
boundary reach their invocation whichever collector sandbox takes each batch (both stores)."""

from __future__ import annotations

from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import LogLine, Store
from hoptrace_collector.store.streamstate import StreamState
from tests.collector.payloads import FUNCTION, T0_MS, document, end_line, report_line, start_line, wrap_document

GROUP = f"/aws/lambda/{FUNCTION}"
STREAM = "2026/11/25/[$LATEST]cccccccccccccccccccccccccccccccc"


def batch(messages: list[str], at_ms: int) -> dict:
    """One subscription batch of STREAM, events 1 ms apart, ids growing with time as CloudWatch's do."""
    doc = document(messages, stream=STREAM, start_ms=at_ms)
    for event in doc["logEvents"]:
        event["id"] = f"{event['timestamp']:056d}"
    return wrap_document(doc)


def prints(store: Store, request_id: str) -> list[str]:
    return [line.message for line in store.invocation_logs([(FUNCTION, request_id)])]


def sandbox(store: Store) -> Ingestor:
    """A fresh collector process: nothing in memory, only the shared store."""
    return Ingestor(store)


def test_lines_in_a_batch_of_their_own_reach_the_invocation_another_sandbox_saw_start(any_store: Store) -> None:
    # GIVEN the START went to one collector sandbox, the next lines to a second, the END to a third
    sandbox(any_store).ingest(batch([start_line("r1"), "print before\n"], T0_MS))
    summary = sandbox(any_store).ingest(batch(["print middle\n", "print late\n"], T0_MS + 100))
    sandbox(any_store).ingest(batch(["print last\n", end_line("r1"), report_line("r1")], T0_MS + 200))
    # THEN every line is r1's, none unattributed
    assert prints(any_store, "r1") == ["print before", "print middle", "print late", "print last"]
    assert summary["log_lines_unattributed"] == 0


def test_a_sandbox_with_an_old_view_does_not_give_the_next_invocations_lines_to_the_last(any_store: Store) -> None:
    # GIVEN sandbox A saw r1 start; sandbox B saw r1 end and r2 start
    a, b = sandbox(any_store), sandbox(any_store)
    a.ingest(batch([start_line("r1"), "r1 print\n"], T0_MS))
    b.ingest(batch([end_line("r1"), report_line("r1"), start_line("r2")], T0_MS + 100))
    # WHEN A takes r2's next lines
    a.ingest(batch(["r2 print\n"], T0_MS + 200))
    # THEN they are r2's, not r1's
    assert prints(any_store, "r1") == ["r1 print"]
    assert prints(any_store, "r2") == ["r2 print"]


def test_redelivered_and_late_batches_change_nothing(any_store: Store) -> None:
    first = batch([start_line("r1"), "one\n"], T0_MS)
    middle = batch(["two\n"], T0_MS + 100)
    last = batch([end_line("r1"), report_line("r1"), start_line("r2"), "r2 one\n"], T0_MS + 200)
    for event in (first, middle, last):
        sandbox(any_store).ingest(event)
    # WHEN every batch is delivered again, out of order, each to another sandbox
    for event in (last, first, middle):
        sandbox(any_store).ingest(event)
    # THEN each line is stored once, with its own invocation
    assert prints(any_store, "r1") == ["one", "two"]
    assert prints(any_store, "r2") == ["r2 one"]


def test_lines_processed_before_the_batch_with_their_start_wait_for_it(any_store: Store) -> None:
    # GIVEN two sandboxes take two batches of one stream at the same moment, and the lines alone are stored first
    summary = sandbox(any_store).ingest(batch(["print before\n", "print more\n"], T0_MS + 100))
    assert summary["log_lines_pending"] == 2 and prints(any_store, "r1") == []
    # WHEN the batch with the START is stored
    sandbox(any_store).ingest(batch([start_line("r1"), "first\n"], T0_MS))
    sandbox(any_store).ingest(batch([end_line("r1"), report_line("r1"), start_line("r2"), "r2 first\n"], T0_MS + 200))
    # THEN the pending lines are r1's, and the next invocation's START claims none of them
    assert prints(any_store, "r1") == ["first", "print before", "print more"]
    assert prints(any_store, "r2") == ["r2 first"]


def test_a_batch_holding_whole_invocations_writes_no_state(any_store: Store) -> None:
    # the common case costs no store write beyond the lines themselves
    sandbox(any_store).ingest(batch([start_line("r1"), "p\n", end_line("r1"), report_line("r1")], T0_MS))
    assert any_store.stream_state(GROUP, STREAM, (T0_MS * 2_000_000, "")) is None
    # and an END whose START came earlier closes the stream's state
    sandbox(any_store).ingest(batch([start_line("r2"), "q\n"], T0_MS + 100))
    sandbox(any_store).ingest(batch([end_line("r2"), report_line("r2")], T0_MS + 200))
    summary = sandbox(any_store).ingest(batch(["stray output after the end\n"], T0_MS + 300))
    assert prints(any_store, "r2") == ["q"] and summary["log_lines_pending"] == 1


def test_states_are_read_just_before_or_after_a_position(any_store: Store) -> None:
    # the store contract: states kept per position; the nearest one on either side, ties broken by event id
    states = [StreamState(GROUP, STREAM, "r1", 1_000, "0001"), StreamState(GROUP, STREAM, None, 2_000, "0002"),
              StreamState(GROUP, STREAM, "r2", 2_000, "0003")]
    for state in states + states[:1]:  # the first written twice: no change
        any_store.write_stream_state(state)
    assert any_store.stream_state(GROUP, STREAM, (2_000, "0003")) == states[1]
    assert any_store.stream_state(GROUP, STREAM, (2_500, "0000")) == states[2]
    assert any_store.stream_state(GROUP, STREAM, (1_000, "0001")) is None
    assert any_store.stream_state(GROUP, STREAM, (1_000, "0001"), after=True) == states[1]
    assert any_store.stream_state(GROUP, STREAM, (2_000, "0003"), after=True) is None
    assert any_store.stream_state(GROUP, "another stream", (9_000, "0009")) is None


def test_pending_lines_are_read_between_two_positions(any_store: Store) -> None:
    lines = [LogLine(FUNCTION, "", t, f"{t:04d}", f"m{t}", "", STREAM) for t in (10, 20, 30)]
    any_store.write_pending_lines(GROUP, lines)
    any_store.write_pending_lines(GROUP, lines)
    assert [x.message for x in any_store.pending_lines(GROUP, STREAM, (10, "0010"), None)] == ["m20", "m30"]
    assert any_store.pending_lines(GROUP, STREAM, (0, ""), (20, "0020")) == lines[:1]


def test_retention_forgets_old_stream_states_and_pending_lines(any_store: Store) -> None:
    any_store.write_stream_state(StreamState(GROUP, STREAM, "r1", 1_000, "0001"))
    any_store.write_pending_lines(GROUP, [LogLine(FUNCTION, "", 1_500, "0002", "old", "", STREAM)])
    any_store.delete_older_than(5_000)
    assert any_store.stream_state(GROUP, STREAM, (9_000, "")) is None
    assert any_store.pending_lines(GROUP, STREAM, (0, ""), None) == []
