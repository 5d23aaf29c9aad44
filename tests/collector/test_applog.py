"""Application log lines through the collector: attributed to exactly one invocation, redacted, bounded.

Lines are shaped as Lambda writes them: the Python runtime's `logging` text format, `print`
output, the runtime's own unhandled-exception line, and the JSON log format's records.
"""

from __future__ import annotations

import json

from hoptrace_collector.ingest.applog import LogLimits
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store
from tests.collector.payloads import FUNCTION, T0_MS, end_line, report_line, start_line, subscription_event

STREAM_A = "2026/11/25/[$LATEST]aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
STREAM_B = "2026/11/25/[$LATEST]bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


def logged(request_id: str, message: str, level: str = "INFO") -> str:
    """A line of the Python runtime's `logging` handler (text format)."""
    return f"[{level}]\t2026-11-25T10:00:00.123Z\t{request_id}\t{message}\n"


def messages(store: Store, request_id: str, function: str = FUNCTION) -> list[tuple[str, str]]:
    return [(line.level, line.message) for line in store.invocation_logs([(function, request_id)])]


def test_text_format_lines_go_to_their_invocation(ingestor: Ingestor, store: Store) -> None:
    # GIVEN a stream with an init print, then two invocations mixing logging and print lines
    ingestor.ingest(subscription_event([
        "loading config\n", start_line("r1"), logged("r1", "charging order o-1"), "cannot charge message m-1\n",
        "[ERROR] UnchargeableOrder: amount -5\rTraceback (most recent call last):\r  File \"app.py\", line 3\n",
        end_line("r1"), report_line("r1", init=120.0),
        start_line("r2"), "print of r2\n", logged("r2", "done", "WARNING"), end_line("r2"), report_line("r2"),
    ], stream=STREAM_A))
    # THEN each line is stored with its own invocation, init output with the cold start it delayed
    assert messages(store, "r1") == [
        ("", "loading config"), ("INFO", "charging order o-1"), ("", "cannot charge message m-1"),
        ("ERROR", "UnchargeableOrder: amount -5\nTraceback (most recent call last):\n  File \"app.py\", line 3")]
    assert messages(store, "r2") == [("", "print of r2"), ("WARNING", "done")]


def test_two_streams_interleaved_in_time_never_mix(ingestor: Ingestor, store: Store) -> None:
    # GIVEN two concurrent invocations of one function, each in its own sandbox's stream, same times
    for stream, rid in ((STREAM_A, "ra"), (STREAM_B, "rb")):
        ingestor.ingest(subscription_event([(T0_MS, start_line(rid)), (T0_MS + 1, f"print {rid} 1\n"),
                                            (T0_MS + 2, logged(rid, f"log {rid}")), (T0_MS + 3, f"print {rid} 2\n"),
                                            (T0_MS + 4, end_line(rid))], stream=stream))
    assert [m for _, m in messages(store, "ra")] == ["print ra 1", "log ra", "print ra 2"]
    assert [m for _, m in messages(store, "rb")] == ["print rb 1", "log rb", "print rb 2"]


def test_an_invocation_split_over_batches_keeps_its_print_lines(ingestor: Ingestor, store: Store) -> None:
    ingestor.ingest(subscription_event([start_line("r1"), "first half\n"], stream=STREAM_A))
    ingestor.ingest(subscription_event(["second half\n", end_line("r1"), "after end\n"], stream=STREAM_A,
                                       start_ms=T0_MS + 10))
    assert [m for _, m in messages(store, "r1")] == ["first half", "second half"]


def test_a_batch_that_begins_mid_invocation_gives_its_first_lines_to_the_request_that_ends(
        store: Store) -> None:
    # GIVEN a collector process that never saw the START (another instance took that batch)
    Ingestor(store).ingest(subscription_event(["tail of r1\n", end_line("r1"), report_line("r1")], stream=STREAM_B))
    assert [m for _, m in messages(store, "r1")] == ["tail of r1"]


def test_a_logging_line_names_its_request_wherever_it_stands(ingestor: Ingestor, store: Store) -> None:
    # a background thread of r1 logging after r2 started: the id wins over the position
    ingestor.ingest(subscription_event([start_line("r2"), logged("r1", "late from r1"), "r2 print\n",
                                        end_line("r2")], stream=STREAM_A))
    assert [m for _, m in messages(store, "r1")] == ["late from r1"]
    assert [m for _, m in messages(store, "r2")] == ["r2 print"]


def test_redelivery_stores_each_line_once(ingestor: Ingestor, store: Store) -> None:
    event = subscription_event([start_line("r1"), "only once\n", end_line("r1")], stream=STREAM_A)
    ingestor.ingest(event)
    summary = ingestor.ingest(event)
    assert summary["log_lines_written"] == 0
    assert [m for _, m in messages(store, "r1")] == ["only once"]


def test_secrets_are_redacted(ingestor: Ingestor, store: Store) -> None:
    ingestor.ingest(subscription_event([start_line("r1"), "login password=hunter2 user=bob\n",
                                        '{"message": "call", "api_key": "k-123", "level": "INFO"}\n',
                                        end_line("r1")], stream=STREAM_A))
    text = " ".join(m for _, m in messages(store, "r1"))
    assert "hunter2" not in text and "user=bob" in text


def test_lines_are_bounded_per_invocation(store: Store) -> None:
    ingestor = Ingestor(store, log_limits=LogLimits(max_lines=5, max_chars=100))
    ingestor.ingest(subscription_event([start_line("r1"), *[f"line {n}\n" for n in range(20)], "z" * 500 + "\n",
                                        end_line("r1")], stream=STREAM_A))
    lines = messages(store, "r1")
    assert [m for _, m in lines[:5]] == [f"line {n}" for n in range(5)]
    assert lines[5] == ("WARNING", "[hoptrace] 16 more log lines of this invocation were not kept "
                                   "(HOPTRACE_MAX_LOG_LINES=5)")
    short = Ingestor(store, log_limits=LogLimits(max_lines=5, max_chars=100))
    short.ingest(subscription_event([start_line("r9"), "z" * 500 + "\n", end_line("r9")], stream=STREAM_B))
    assert messages(store, "r9")[0][1].startswith("z" * 100 + "…[truncated 400 chars]")


# -- the JSON log format --------------------------------------------------------------------------------

def platform_record(kind: str, request_id: str, **record: object) -> str:
    return json.dumps({"time": "2026-11-25T10:00:00.000Z", "type": kind, "record": {"requestId": request_id,
                                                                                     **record}})


def app_record(request_id: str, message: object, level: str = "INFO", **extra: object) -> str:
    return json.dumps({"timestamp": "2026-11-25T10:00:00.123Z", "level": level, "message": message,
                       "logger": "root", "requestId": request_id, **extra})


def test_json_format_platform_records_make_invocations(ingestor: Ingestor, store: Store) -> None:
    # GIVEN a cold start that succeeded and a warm one that timed out, in the JSON log format
    ingestor.ingest(subscription_event([
        json.dumps({"time": "2026-11-25T10:00:00.000Z", "type": "platform.initStart",
                    "record": {"initializationType": "on-demand", "phase": "init"}}),
        platform_record("platform.start", "r1", version="$LATEST"),
        app_record("r1", "charging"), "a print line\n",
        platform_record("platform.runtimeDone", "r1", status="success", metrics={"durationMs": 12.0}),
        platform_record("platform.report", "r1", status="success", metrics={
            "durationMs": 12.5, "billedDurationMs": 13, "memorySizeMB": 128, "maxMemoryUsedMB": 61,
            "initDurationMs": 231.4}),
        platform_record("platform.start", "r2", version="$LATEST"),
        "stuck\n",
        platform_record("platform.runtimeDone", "r2", status="timeout", metrics={"durationMs": 3000.0}),
        platform_record("platform.report", "r2", status="timeout", metrics={
            "durationMs": 3000.0, "billedDurationMs": 3000, "memorySizeMB": 128, "maxMemoryUsedMB": 62}),
    ], stream=STREAM_A))
    # THEN cold start figures, the timeout, and each invocation's lines are there
    records = {r.request_id: r for r in store.invocations()}
    assert records["r1"].outcome == "ok" and records["r1"].init_ms == 231.4 and records["r1"].duration_ms == 12.5
    assert records["r2"].outcome == "timeout"
    assert messages(store, "r1") == [("INFO", "charging"), ("", "a print line")]
    assert messages(store, "r2") == [("", "stuck")]


def test_json_format_runtime_failures_are_deaths(ingestor: Ingestor, store: Store) -> None:
    ingestor.ingest(subscription_event([
        platform_record("platform.start", "r1"),
        platform_record("platform.report", "r1", status="error", errorType="Runtime.OutOfMemory",
                        metrics={"durationMs": 80.0, "memorySizeMB": 128, "maxMemoryUsedMB": 128}),
        platform_record("platform.start", "r2"),
        platform_record("platform.report", "r2", status="failure", errorType="Runtime.ExitError",
                        metrics={"durationMs": 5.0}),
        platform_record("platform.start", "r3"),
        platform_record("platform.report", "r3", status="error", errorType="ValueError", metrics={"durationMs": 5.0}),
    ], stream=STREAM_A))
    outcomes = {r.request_id: r.outcome for r in store.invocations()}
    assert outcomes == {"r1": "oom", "r2": "crash", "r3": "ok"}  # r3: the handler's own error (the layer's span)


def test_json_format_error_records_keep_type_and_stack(ingestor: Ingestor, store: Store) -> None:
    ingestor.ingest(subscription_event([
        platform_record("platform.start", "r1"),
        app_record("r1", "payment failed", "ERROR", errorType="ValueError", errorMessage="bad amount",
                   stackTrace=['  File "app.py", line 9, in handler\n']),
        app_record("r1", {"errorMessage": "boom", "errorType": "RuntimeError", "requestId": "r1",
                          "stackTrace": ['  File "app.py", line 3\n']}, "ERROR"),
        json.dumps({"level": "INFO", "message": "powertools", "function_request_id": "r1",
                    "timestamp": "2026-11-25 10:00:00,000"}),
    ], stream=STREAM_A))
    lines = messages(store, "r1")
    assert lines[0] == ("ERROR", 'payment failed (ValueError: bad amount)\n  File "app.py", line 9, in handler\n')
    assert lines[1][1].startswith("RuntimeError: boom")
    assert lines[2] == ("INFO", "powertools")


def test_hostile_lines_cost_only_themselves(ingestor: Ingestor, store: Store) -> None:
    deep = "[" * 5000 + "]" * 5000
    summary = ingestor.ingest(subscription_event([
        start_line("r1"), "{not json\n", '{"type": "platform.report", "record": 5}', deep, "[1, 2]",
        '{"type": "platform.start", "record": {"requestId": 7}}', "\udcff odd \x00 text\n", "ok line\n",
        end_line("r1")], stream=STREAM_A))
    assert "problems" not in summary
    texts = [m for _, m in messages(store, "r1")]
    # a platform record without a usable request id says nothing; every other line is kept as logged
    assert texts[:2] == ["{not json", '{"type": "platform.report", "record": 5}'] and texts[3] == "[1, 2]"
    assert texts[-2:] == ["\ufffd odd \x00 text", "ok line"] and len(texts) == 6
