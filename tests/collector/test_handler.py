"""The collector handler on real-shaped subscription batches: spans, platform lines, failures joined."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hoptrace import semconv, wire
from hoptrace_collector import handler as collector
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.ingest.failures import derived_ids
from hoptrace_collector.store import Store, TraceFilter
from tests.collector.payloads import (
    FUNCTION,
    LOG_GROUP,
    OK_HANDLER,
    REQUEST_ID,
    T0_MS,
    end_line,
    report_line,
    start_line,
    subscription_event,
    timeout_line,
    traced_lines,
)
from tests.conftest import load_event

TRACE = "5759e988bd862e3fe1be46a994272793"


@pytest.fixture(scope="module")
def api_lines() -> list[str]:
    return traced_lines(OK_HANDLER, load_event("apigateway_v1"))


def invocation_of(spans: list) -> Any:
    return next(s for s in spans if s.request_id == REQUEST_ID)


def test_span_lines_and_report_are_stored(ingestor: Ingestor, store: Store, api_lines: list[str]) -> None:
    # GIVEN one invocation's log as CloudWatch delivers it: START, span line, END, REPORT of a cold start
    event = subscription_event([start_line(), *api_lines, end_line(), report_line(init=250.5)])
    # WHEN the collector handles the batch
    summary = ingestor.ingest(event)
    # THEN the invocation span is stored in the caller's trace with its function, request id and cold start
    assert summary["spans_written"] == summary["spans"] >= 1 and "problems" not in summary
    spans = store.get_trace(TRACE)
    invocation = invocation_of(spans)
    assert (invocation.function, invocation.service, invocation.kind) == (FUNCTION, FUNCTION, "server")
    assert invocation.cold_start and invocation.trigger == "apigateway" and invocation.source == "layer"
    assert invocation.resource["faas.name"] == FUNCTION
    # AND the REPORT became an invocation record joined to that trace
    [record] = store.invocations(function=FUNCTION)
    assert (record.outcome, record.duration_ms, record.billed_ms, record.memory_mb, record.max_memory_mb,
            record.init_ms, record.trace_id) == ("ok", 12.34, 13.0, 128, 70, 250.5, TRACE)
    assert record.log_group == LOG_GROUP


def test_the_resource_the_line_leaves_out_is_put_back_from_its_log_group_and_stream(
        ingestor: Ingestor, store: Store, api_lines: list[str]) -> None:
    # GIVEN the real layer's line, whose resource leaves out what the log group and stream say
    resource, _, _ = wire.decode(next(line for line in api_lines if line.startswith(wire.PREFIX)).strip())
    assert semconv.FAAS_NAME not in resource and semconv.FAAS_INSTANCE not in resource
    # WHEN the collector stores it from the stream it was written to
    stream = "2026/11/25/[$LATEST]a1b2c3d4e5f6"
    ingestor.ingest(subscription_event([start_line(), *api_lines, end_line(), report_line()], stream=stream))
    # THEN the stored spans carry the whole resource, as the layer built it
    stored = invocation_of(store.get_trace(TRACE)).resource
    assert {k: stored.get(k) for k in (semconv.FAAS_NAME, semconv.SERVICE_NAME, semconv.FAAS_INSTANCE,
                                       semconv.AWS_LOG_GROUP_NAMES, semconv.CLOUD_PROVIDER, semconv.FAAS_VERSION)} == {
        semconv.FAAS_NAME: FUNCTION, semconv.SERVICE_NAME: FUNCTION, semconv.FAAS_INSTANCE: stream,
        semconv.AWS_LOG_GROUP_NAMES: LOG_GROUP, semconv.CLOUD_PROVIDER: "aws", semconv.FAAS_VERSION: "$LATEST"}


def test_redelivered_batch_changes_nothing(ingestor: Ingestor, store: Store, api_lines: list[str]) -> None:
    # GIVEN a batch already stored
    event = subscription_event([start_line(), *api_lines, report_line()])
    first = ingestor.ingest(event)
    # WHEN CloudWatch delivers it again (to a fresh collector process, too)
    again = ingestor.ingest(copy.deepcopy(event))
    fresh = Ingestor(store).ingest(event)
    # THEN nothing is written twice
    for summary in (again, fresh):
        assert summary["spans_written"] == 0 and summary["spans_unchanged"] == first["spans"]
        assert summary["invocations_written"] == 0
    assert len(store.get_trace(TRACE)) == first["spans"]
    assert store.list_traces(TraceFilter())[0].span_count == first["spans"]


def test_line_behind_a_runtime_logging_prefix(ingestor: Ingestor, store: Store, api_lines: list[str]) -> None:
    # GIVEN span lines written through a logger that prefixes time, request id and level
    prefixed = [f"2026-11-25T10:00:00.000Z\t{REQUEST_ID}\tINFO\t{line}" for line in api_lines]
    # WHEN ingested / THEN the spans are read as if printed plainly
    summary = ingestor.ingest(subscription_event(prefixed))
    assert summary["spans_written"] >= 1 and "problems" not in summary
    assert invocation_of(store.get_trace(TRACE)).request_id == REQUEST_ID


def pending_copy(line: str) -> str:
    """The layer's watchdog copy of this invocation's span (hoptrace/watchdog.py), written before the deadline."""
    resource, spans, _ = wire.decode(line.rstrip("\n"))
    invocation = next(s for s in spans if s["attributes"].get("faas.invocation_id") == REQUEST_ID)
    pending = {**invocation, "end": invocation["start"] + 2_900_000_000,
               "status": {"code": "error", "message": "still running shortly before the function's timeout"},
               "attributes": {**invocation["attributes"], semconv.PENDING: True}}
    return wire.encode([pending], resource)[0] + "\n"


def test_timeout_replaces_the_pending_span(ingestor: Ingestor, store: Store, api_lines: list[str]) -> None:
    # GIVEN an invocation that timed out: only the watchdog's pending span, then the platform lines
    pending = pending_copy(api_lines[0])
    ingestor.ingest(subscription_event([start_line(), pending]))
    stored = invocation_of(store.get_trace(TRACE))
    assert stored.pending and stored.status_message.startswith("still running")
    # WHEN the timeout and REPORT lines arrive in the next batch (AWS logs both)
    summary = ingestor.ingest(subscription_event([
        (T0_MS + 3000, timeout_line()), (T0_MS + 3001, end_line()),
        (T0_MS + 3002, report_line(duration=3000.0, extra="Status: timeout"))]))
    # THEN the failed span took the pending span's place: same ids, same parent, now an error
    assert summary["platform_failures"] == 1
    failed = invocation_of(store.get_trace(TRACE))
    assert (failed.span_id, failed.parent_id, failed.name) == (stored.span_id, stored.parent_id, stored.name)
    assert (failed.status, failed.source, failed.pending) == ("error", "platform", False)
    assert failed.status_message == "Task timed out after 3.00 seconds"
    assert failed.attributes["hoptrace.platform.outcome"] == "timeout" and semconv.PENDING not in failed.attributes
    assert len([s for s in store.get_trace(TRACE) if s.request_id == REQUEST_ID]) == 1
    # AND the invocation keeps the timeout outcome with the REPORT's figures
    [record] = store.invocations()
    assert (record.outcome, record.duration_ms, record.trace_id) == ("timeout", 3000.0, TRACE)
    # AND a late redelivery of the pending span does not bring the placeholder back
    ingestor.ingest(subscription_event([start_line(), pending]))
    assert invocation_of(store.get_trace(TRACE)).status == "error"
    assert store.list_traces(TraceFilter(status="error"))[0].trace_id == TRACE


def test_timeout_in_the_same_batch_as_the_pending_span(ingestor: Ingestor, store: Store,
                                                       api_lines: list[str]) -> None:
    event = subscription_event([start_line(), pending_copy(api_lines[0]), timeout_line(), end_line(),
                                report_line(duration=3000.0)])
    ingestor.ingest(event)
    [failed] = [s for s in store.get_trace(TRACE) if s.request_id == REQUEST_ID]
    assert failed.source == "platform" and failed.status == "error"
    assert store.list_traces(TraceFilter(trace_id=TRACE))[0].error_count >= 1


def test_plain_report_after_timeout_keeps_the_timeout(ingestor: Ingestor, store: Store) -> None:
    # GIVEN the timeout line stored first / WHEN a plain REPORT of the same request arrives later
    ingestor.ingest(subscription_event([timeout_line()]))
    ingestor.ingest(subscription_event([report_line(duration=3000.0)]))
    # THEN the outcome stays timeout and the REPORT's figures are added
    [record] = store.invocations()
    assert (record.outcome, record.memory_mb, record.message) == ("timeout", 128,
                                                                  "Task timed out after 3.00 seconds")


def test_crash_without_any_span_gets_a_trace_of_its_own(ingestor: Ingestor, store: Store) -> None:
    # GIVEN a runtime that died before the layer could write anything (AWS's lines)
    event = subscription_event([start_line(), f"RequestId: {REQUEST_ID} Error: Runtime exited with error: "
                                "exit status 1\n", "Runtime.ExitError\n", end_line(), report_line(duration=40.0)])
    # WHEN ingested twice (redelivery)
    ingestor.ingest(event)
    again = ingestor.ingest(event)
    # THEN one failed span exists, in a trace derived from the request id, starting at START
    trace_id, span_id = derived_ids(FUNCTION, REQUEST_ID)
    [span] = store.get_trace(trace_id)
    assert (span.span_id, span.name, span.status, span.source, span.start_ns) == (
        span_id, FUNCTION, "error", "platform", T0_MS * 1_000_000)
    assert span.status_message == "Runtime exited with error: exit status 1"
    assert again["spans_written"] == 0
    [record] = store.invocations(outcomes=["crash"])
    assert record.trace_id == trace_id


def test_out_of_memory_is_told_from_a_crash(ingestor: Ingestor, store: Store) -> None:
    ingestor.ingest(subscription_event([
        start_line(), f"RequestId: {REQUEST_ID} Error: Runtime exited with error: signal: killed\n",
        "Runtime.ExitError\n", end_line(), report_line(memory=128, used=128)]))
    [record] = store.invocations()
    assert record.outcome == "oom" and "out of memory" in record.message
    # the newer REPORT form says it directly
    other = "11111111-2222-4333-8444-555555555555"
    ingestor.ingest(subscription_event([report_line(other, extra="Status: error\tError Type: Runtime.OutOfMemory")],
                                       start_ms=T0_MS + 5000))
    assert store.invocations(outcomes=["oom"])[0].request_id == other
    assert len(store.spans(errors_only=True)) == 2


def test_xray_trace_id_of_the_report_joins_the_failure(ingestor: Ingestor, store: Store) -> None:
    xray = "\tXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true"
    ingestor.ingest(subscription_event([timeout_line(), report_line(duration=3000.0, extra=xray.strip("\t"))]))
    [span] = store.get_trace(TRACE)
    assert span.status == "error" and span.parent_id is None
    assert store.invocations()[0].trace_id == TRACE


def test_failure_joins_a_span_stored_by_an_earlier_batch(ingestor: Ingestor, store: Store,
                                                         api_lines: list[str]) -> None:
    # GIVEN the layer's finished span already stored / WHEN the runtime then crashes for that request
    ingestor.ingest(subscription_event(api_lines))
    before = invocation_of(store.get_trace(TRACE))
    ingestor.ingest(subscription_event([f"RequestId: {REQUEST_ID} Error: Runtime exited with error: "
                                        "signal: segmentation fault\n"]))
    # THEN that span is marked failed in place
    after = invocation_of(store.get_trace(TRACE))
    assert after.span_id == before.span_id and after.status == "error" and after.source == "platform"
    assert after.attributes["http.route"] == before.attributes["http.route"]


def test_local_cloud_timeout_form(ingestor: Ingestor, store: Store) -> None:
    # the local cloud writes "<iso time> <id> Task timed out after N seconds" and "Status: timeout"
    rid = "0f0f0f0f-0000-4000-8000-000000000009"
    ingestor.ingest(subscription_event([f"START RequestId: {rid} Version: $LATEST",
                                        f"2026-11-25T10:00:01.500Z {rid} Task timed out after 1.00 seconds",
                                        f"END RequestId: {rid}",
                                        f"REPORT RequestId: {rid}\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\t"
                                        "Memory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout"]))
    [record] = store.invocations()
    assert (record.outcome, record.duration_ms, record.max_memory_mb) == ("timeout", 1000.0, 40)


def test_control_message_and_own_log_group_are_ignored(store: Store, api_lines: list[str]) -> None:
    ingestor = Ingestor(store, own_log_group="/aws/lambda/hoptrace-collector")
    control = subscription_event([])
    doc = json.loads(json.dumps(control))
    assert ingestor.ingest(_control()) == {"log_group": "", "log_stream": "", "events": 1,
                                           "control_message": True}
    own = ingestor.ingest(subscription_event(api_lines, group="/aws/lambda/hoptrace-collector"))
    assert own["skipped"] and store.list_traces(TraceFilter()) == []
    assert doc  # the plain payload helper stays valid JSON


def _control() -> dict[str, Any]:
    from tests.collector.payloads import wrap_document

    return wrap_document({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
                          "logStream": "", "subscriptionFilters": [],
                          "logEvents": [{"id": "", "timestamp": T0_MS,
                                         "message": "CWL CONTROL MESSAGE: Checking health of destination"}]})


def test_collector_lines_are_never_ingested(ingestor: Ingestor, store: Store) -> None:
    from hoptrace_collector.ingest.problems import LOG_PREFIX

    summary = ingestor.ingest(subscription_event([LOG_PREFIX + '{"event":"problems","samples":["HOPTRACE x"]}']))
    assert summary["spans"] == 0 and "problems" not in summary


def test_lambda_handler_opens_the_store_from_the_environment(tmp_path, monkeypatch, api_lines: list[str]) -> None:
    # GIVEN HOPTRACE_STORE / WHEN the Lambda entry point handles a batch
    monkeypatch.setenv("HOPTRACE_STORE", f"sqlite:///{tmp_path}/env.db")
    collector.reset()
    try:
        summary = collector.handler(subscription_event(api_lines), None)
        assert collector.ingestor() is collector.ingestor()  # opened once per process
    finally:
        collector.reset()
    # THEN the spans are in that store
    from hoptrace_collector.store import open_store

    assert summary["spans_written"] >= 1
    assert open_store(str(tmp_path / "env.db")).get_trace(TRACE)


def test_collector_imports_no_sdk() -> None:
    # the collector runs beside no tracer: importing it must not load OpenTelemetry, nor boto3, protobuf or
    # the X-Ray SDK before they are needed (DynamoDB, a protobuf request, X-Ray forwarding)
    import subprocess
    import sys

    code = ("import sys, hoptrace_collector.handler, hoptrace_collector.store.sqlite, hoptrace_collector.dlq, "
            "hoptrace_collector.otlp.server, hoptrace_collector.forward; print(sorted({m.split('.')[0] for m in "
            "sys.modules} & {'opentelemetry', 'boto3', 'botocore', 'google', 'aws_xray_sdk'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
