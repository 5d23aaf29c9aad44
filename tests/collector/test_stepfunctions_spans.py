"""Execution history → spans: the saga's states under the execution, retries and catches as events, the
compensation path marked, Parallel/Map children nested, ids the layer and the local cloud agree on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hoptrace.statespans import execution_span_id, state_span_id
from hoptrace_collector.stepfunctions.history_spans import execution_spans
from tests.localcloud.stepfunctions.runner import ARN, Functions, run

HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
TASK = "arn:aws:states:::lambda:invoke"
SAGA = {
    "StartAt": "ReserveStock",
    "States": {
        "ReserveStock": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "reserve"},
                         "ResultPath": None, "Next": "ChargePayment"},
        "ChargePayment": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "charge"},
                          "ResultPath": None,
                          "Retry": [{"ErrorEquals": ["ProviderUnavailable"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                          "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ReleaseStock"}],
                          "Next": "ConfirmOrder"},
        "ConfirmOrder": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "confirm"}, "End": True},
        "ReleaseStock": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "release"},
                         "ResultPath": None, "Next": "MarkOrderFailed"},
        "MarkOrderFailed": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "mark"},
                            "ResultPath": None, "Next": "OrderFailed"},
        "OrderFailed": {"Type": "Fail", "Error": "OrderFailed", "Cause": "the payment was declined"},
    },
}


class ProviderUnavailable(Exception):
    pass


class PaymentDeclined(Exception):
    pass


def _described(the_run, status, error=None):
    out = {"executionArn": ARN, "stateMachineArn": the_run.state_machine_arn, "status": status,
           "startDate": the_run.start_time, "stopDate": the_run.history.events[-1]["timestamp"],
           "traceHeader": HEADER}
    if error is not None:
        out.update(error=error.error, cause=error.cause)
    return out


def _saga(charge):
    functions = Functions(reserve=lambda e: {}, charge=charge, confirm=lambda e: {}, release=lambda e: {},
                          mark=lambda e: {})
    status, result, the_run = run(SAGA, {"order": "o1"}, functions)
    return execution_spans(_described(the_run, status, result if status == "FAILED" else None),
                           the_run.history.events)


def test_a_compensated_saga_has_red_then_green_states_under_the_execution():
    calls = []

    def charge(event):
        calls.append(1)
        raise ProviderUnavailable("try later") if len(calls) == 1 else PaymentDeclined("card declined")

    spans = {s.name: s for s in _saga(charge)}
    execution = spans["Machine execution"]
    # The execution joins the caller's trace under the StartExecution client span
    assert (execution.trace_id, execution.parent_id) == ("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8")
    assert execution.span_id == execution_span_id(ARN) and execution.status == "error"
    assert set(spans) == {"Machine execution", "ReserveStock", "ChargePayment", "ReleaseStock", "MarkOrderFailed",
                          "OrderFailed"}
    assert all(s.parent_id == execution.span_id for n, s in spans.items() if n != "Machine execution")
    charge_span = spans["ChargePayment"]
    assert charge_span.status == "error" and charge_span.status_message.startswith("PaymentDeclined: ")
    assert [e["name"] for e in charge_span.events] == ["TaskFailed", "retry", "TaskFailed", "caught"]
    assert charge_span.attributes["hoptrace.sfn.retry_count"] == 1
    assert spans["ReserveStock"].status == "ok" and "hoptrace.sfn.compensation" not in spans["ReserveStock"].attributes
    for name in ("ReleaseStock", "MarkOrderFailed", "OrderFailed"):
        assert spans[name].attributes["hoptrace.sfn.compensation"] is True
    assert spans["ReleaseStock"].status == "ok" and spans["OrderFailed"].status == "error"
    # Span ids are the ones the layer derives from $$.State.EnteredTime
    assert charge_span.span_id == state_span_id(ARN, "ChargePayment", charge_span.start_ns // 1_000_000)


def test_failure_causes_are_stored_without_their_secrets():
    # GIVEN a saga whose charge fails with an error message carrying credentials, caught and compensated
    def charge(event):
        raise PaymentDeclined("gateway refused password=hunter2 with Authorization: Bearer abc.def.ghi")

    spans = _saga(charge)
    # THEN the cause is kept, the secrets masked, on the state's status, its events and the execution's message
    texts = [s.status_message for s in spans] + [json.dumps(e) for s in spans for e in s.events]
    assert any("gateway refused password=[REDACTED]" in text for text in texts)
    assert not any("hunter2" in text or "abc.def.ghi" in text for text in texts)


def test_a_saga_that_succeeds_after_a_retry():
    calls = []

    def charge(event):
        calls.append(1)
        if len(calls) == 1:
            raise ProviderUnavailable("try later")
        return {}

    spans = {s.name: s for s in _saga(charge)}
    assert spans["Machine execution"].status == "ok" and spans["ChargePayment"].status == "ok"
    assert [e["name"] for e in spans["ChargePayment"].events] == ["TaskFailed", "retry"]
    assert "ReleaseStock" not in spans and "hoptrace.sfn.compensation" not in spans["ConfirmOrder"].attributes


def test_parallel_and_map_children_nest_under_their_state():
    asl = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "M", "ResultPath": "$.par", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "B2"}, "B2": {"Type": "Pass", "End": True}}}]},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
            "StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}}, "End": True}}}
    status, _, the_run = run(asl, {"items": [1, 2, 3]})
    spans = execution_spans(_described(the_run, status), the_run.history.events)
    by_name: dict[str, list] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    parallel, map_state = by_name["P"][0], by_name["M"][0]
    assert {s.parent_id for s in by_name["A"] + by_name["B"] + by_name["B2"]} == {parallel.span_id}
    assert len(by_name["Each"]) == 3 and {s.parent_id for s in by_name["Each"]} == {map_state.span_id}
    assert len({s.span_id for s in spans}) == len(spans)
    assert parallel.end_ns >= max(s.end_ns for s in by_name["B2"])


def test_boto3_shaped_history_with_datetimes_and_no_trace_header():
    # GIVEN what boto3 returns on AWS: datetime timestamps, no traceHeader (tracing off)
    t0 = datetime(2026, 12, 1, 18, 0, 0, tzinfo=UTC)
    ts = [t0.replace(microsecond=n * 1000) for n in range(6)]
    events = [
        {"timestamp": ts[0], "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
         "executionStartedEventDetails": {"input": "{}"}},
        {"timestamp": ts[1], "type": "TaskStateEntered", "id": 2, "previousEventId": 0,
         "stateEnteredEventDetails": {"name": "Work", "input": "{}"}},
        {"timestamp": ts[2], "type": "TaskScheduled", "id": 3, "previousEventId": 2,
         "taskScheduledEventDetails": {"resourceType": "lambda", "resource": "invoke", "region": "us-east-1",
                                       "parameters": json.dumps({"FunctionName": "w"})}},
        {"timestamp": ts[3], "type": "TaskSucceeded", "id": 4, "previousEventId": 3,
         "taskSucceededEventDetails": {"resourceType": "lambda", "resource": "invoke", "output": "{}"}},
        {"timestamp": ts[4], "type": "TaskStateExited", "id": 5, "previousEventId": 4,
         "stateExitedEventDetails": {"name": "Work", "output": "{}"}},
        {"timestamp": ts[5], "type": "ExecutionSucceeded", "id": 6, "previousEventId": 5,
         "executionSucceededEventDetails": {"output": "{}"}},
    ]
    described = {"executionArn": ARN, "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:M",
                 "status": "SUCCEEDED", "startDate": ts[0], "stopDate": ts[5]}
    spans = execution_spans(described, events)
    assert [s.name for s in spans] == ["M execution", "Work"]
    assert spans[0].parent_id is None and spans[0].trace_id.startswith(f"{int(t0.timestamp()):08x}")
    assert spans[1].start_ns == int(ts[1].timestamp() * 1e6) * 1000 and spans[1].end_ns > spans[1].start_ns


def test_the_handler_waits_for_the_end_and_skips_express_and_garbage():
    from hoptrace_collector.stepfunctions import handler

    running = {"detail-type": "Step Functions Execution Status Change", "source": "aws.states",
               "detail": {"executionArn": ARN, "status": "RUNNING"}}
    assert handler.handler(running)["spans"] == 0 and "RUNNING" in handler.handler(running)["skipped"]
    express = {"detail": {"executionArn": ARN.replace(":execution:", ":express:"), "status": "SUCCEEDED"}}
    assert "Express" in handler.handler(express)["skipped"]
    assert handler.handler({"detail": "nope"})["spans"] == 0 and handler.handler(None)["spans"] == 0


def test_collect_reads_every_history_page_and_writes_through_the_store(tmp_path):
    from hoptrace_collector.stepfunctions.handler import collect
    from hoptrace_collector.store import open_store

    status, _, the_run = run(SAGA, {}, Functions(reserve=lambda e: {}, charge=lambda e: {},
                                                      confirm=lambda e: {}))
    pages = [the_run.history.events[:3], the_run.history.events[3:]]

    class Client:
        def describe_execution(self, executionArn):
            return _described(the_run, status)

        def get_paginator(self, name):
            assert name == "get_execution_history"
            return type("P", (), {"paginate": lambda self, **kw: [{"events": p} for p in pages]})()

    store = open_store(f"sqlite:///{tmp_path}/spans.db")
    assert collect(ARN, Client(), store) == 4
    assert collect(ARN, Client(), store) == 4  # a duplicate delivery is idempotent
    stored = store.get_trace("5759e988bd862e3fe1be46a994272793")
    assert sorted(s.name for s in stored) == ["ChargePayment", "ConfirmOrder", "Machine execution", "ReserveStock"]
    store.close()


def test_the_handler_reads_the_aws_status_change_event(monkeypatch):
    from hoptrace_collector.stepfunctions import handler
    from tests.conftest import load_event

    seen = []
    monkeypatch.setattr(handler, "_client", lambda: "client")
    monkeypatch.setattr(handler, "_store", lambda: "store")
    monkeypatch.setattr(handler, "collect", lambda arn, client, store: seen.append((arn, client, store)) or 7)
    event = load_event("stepfunctions_status_change")
    assert handler.handler(event) == {"spans": 7, "executionArn": event["detail"]["executionArn"]}
    assert seen == [(event["detail"]["executionArn"], "client", "store")]


def test_state_spans_round_trip_through_both_stores(any_store):
    # GIVEN a compensated saga's spans rebuilt from its history
    def charge(event):
        raise PaymentDeclined("card declined")

    functions = Functions(reserve=lambda e: {}, charge=charge, release=lambda e: {}, mark=lambda e: {})
    status, error, the_run = run(SAGA, {}, functions)
    spans = execution_spans(_described(the_run, status, error), the_run.history.events)
    # WHEN written twice (a redelivered status-change event) through the public write path
    any_store.write(spans=spans)
    any_store.write(spans=spans)
    # THEN the store holds each once, with their events, attributes and source
    stored = {s.name: s for s in any_store.get_trace("5759e988bd862e3fe1be46a994272793")}
    assert len(stored) == len(spans) == 6
    charge_span = stored["ChargePayment"]
    assert charge_span.source == "history" and charge_span.status == "error"
    assert [e["name"] for e in charge_span.events] == ["TaskFailed", "caught"]
    assert stored["ReleaseStock"].attributes["hoptrace.sfn.compensation"] is True
