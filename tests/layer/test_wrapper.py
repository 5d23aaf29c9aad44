"""The wrapper end to end in-process: spans written, errors recorded, handler never broken."""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest

import hoptrace
from hoptrace import health, wire
from hoptrace.config import Config
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, all_event_names, load_event
from tests.layer.spans import by_name, invocation_span, run

pytestmark = pytest.mark.usefixtures("engine")

TRACE_HEX = "5759e988bd862e3fe1be46a994272793"


def echo(event: Any, context: Any) -> Any:
    return {"statusCode": 200, "body": json.dumps({"seen": event if not isinstance(event, bytes) else None})}


class Boom(RuntimeError):
    pass


def explode(event: Any, context: Any) -> Any:
    raise Boom("card declined for order 42")


@pytest.mark.parametrize("name", all_event_names())
def test_handler_result_is_unchanged_by_tracing(name: str) -> None:
    # GIVEN the same event for a bare and a traced handler
    event = load_event(name)
    bare = echo(copy.deepcopy(event), LambdaContext())
    # WHEN traced
    result, raised, spans, _ = run(wrap(echo), copy.deepcopy(event), LambdaContext())
    # THEN the result is identical and exactly one invocation span was written
    assert raised is None and result == bare
    assert invocation_span(spans)["attributes"]["faas.invocation_id"] == LambdaContext.aws_request_id


@pytest.mark.parametrize("name", all_event_names())
def test_handler_exception_passes_through_unchanged_and_is_recorded(name: str) -> None:
    # GIVEN a handler that raises / WHEN traced
    _result, raised, spans, _ = run(wrap(explode), load_event(name), LambdaContext())
    # THEN the very same exception type and message come out
    assert isinstance(raised, Boom) and str(raised) == "card declined for order 42"
    span = invocation_span(spans)
    assert span["status"] == {"code": "error", "message": "Boom: card declined for order 42"}
    [event] = [e for e in span["events"] if e["name"] == "exception"]
    assert event["attributes"]["exception.type"].endswith("Boom")
    assert "explode" in event["attributes"]["exception.stacktrace"]


def test_exception_identity_and_traceback_are_preserved() -> None:
    error = Boom("x")

    def raiser(event: Any, context: Any) -> Any:
        raise error

    with pytest.raises(Boom) as caught, redirect_stdout(io.StringIO()):
        wrap(raiser)({}, LambdaContext())
    assert caught.value is error
    assert caught.traceback[-1].name == "raiser"


def test_system_exit_passes_through() -> None:
    def quitter(event: Any, context: Any) -> Any:
        raise SystemExit(3)

    _, raised, spans, _ = run(wrap(quitter), {}, LambdaContext())
    assert isinstance(raised, SystemExit) and raised.code == 3
    assert invocation_span(spans)["status"]["code"] == "error"


def test_continues_the_callers_trace() -> None:
    _, _, spans, _ = run(wrap(echo), load_event("apigateway_v1"), LambdaContext())
    span = invocation_span(spans)
    assert span["trace_id"] == TRACE_HEX and span["parent_id"] == "53995c3f42cd8ad8"
    assert span["kind"] == "server" and span["attributes"]["http.response.status_code"] == 200


def test_server_error_response_marks_span_as_error() -> None:
    def failing(event: Any, context: Any) -> Any:
        return {"statusCode": 503, "body": "unavailable"}

    _, _, spans, _ = run(wrap(failing), load_event("apigateway_v2"), LambdaContext())
    assert invocation_span(spans)["status"] == {"code": "error", "message": "HTTP 503"}


def test_lambda_env_trace_is_only_a_last_resort(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN Lambda's own trace header in the environment (set even with X-Ray off)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6759e988-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=1111111111111111;Sampled=0")
    # WHEN the message carries its own context THEN the message wins
    _, _, spans, _ = run(wrap(echo), load_event("sqs"), LambdaContext())
    assert invocation_span(spans)["trace_id"] == TRACE_HEX
    # WHEN nothing is carried THEN the environment's trace is continued
    _, _, spans, _ = run(wrap(echo), load_event("direct_invoke"), LambdaContext())
    span = invocation_span(spans)
    assert span["trace_id"] == "6759e988aaaaaaaaaaaaaaaaaaaaaaaa" and span["parent_id"] == "1111111111111111"
    assert span["attributes"]["hoptrace.context_source"] == "lambda-env"


def test_new_traces_get_xray_compatible_ids() -> None:
    _, _, spans, _ = run(wrap(echo), load_event("scheduled"), LambdaContext())
    span = invocation_span(spans)
    assert span["parent_id"] is None
    import time

    assert abs(int(span["trace_id"][:8], 16) - time.time()) < 60


def test_mixed_batch_links_producers_and_keeps_each_record_in_its_trace() -> None:
    # GIVEN an SQS batch of records from two traces plus one without context
    _, _, spans, _ = run(wrap(echo), load_event("sqs_mixed_batch"), LambdaContext())
    invocation = invocation_span(spans)
    records = [s for s in spans if s is not invocation and s["name"] == "process payments-queue"]
    # THEN the invocation links to each producer
    assert {link["trace_id"] for link in invocation["links"]} == {TRACE_HEX, "6759e988bd862e3fe1be46a994272794"}
    # AND each record's process span sits in its own producer's trace
    by_message = {s["attributes"]["messaging.message.id"]: s for s in records}
    assert by_message["11111111-0000-4000-8000-000000000001"]["trace_id"] == TRACE_HEX
    assert by_message["11111111-0000-4000-8000-000000000001"]["parent_id"] == "53995c3f42cd8ad8"
    assert by_message["11111111-0000-4000-8000-000000000002"]["trace_id"] == "6759e988bd862e3fe1be46a994272794"
    orphan = by_message["11111111-0000-4000-8000-000000000003"]
    assert orphan["trace_id"] == invocation["trace_id"] and orphan["parent_id"] == invocation["span_id"]
    # AND every record span links back to the invocation
    assert all(any(link["span_id"] == invocation["span_id"] for link in s["links"]) for s in records[:2])


def test_work_done_per_record_joins_that_records_trace() -> None:
    from opentelemetry import trace

    # GIVEN a handler that makes a span for each record of a batch mixing two traces
    def per_record(event: Any, context: Any) -> Any:
        for record in event["Records"]:
            with trace.get_tracer("user").start_as_current_span(f"charge {record['messageId'][-1]}"):
                pass
        return {"batchItemFailures": []}

    event = load_event("sqs_mixed_batch")
    _, _, spans, _ = run(wrap(per_record), event, LambdaContext())
    records = {s["attributes"]["messaging.message.id"][-1]: s for s in spans
               if "messaging.message.id" in s["attributes"]}
    # THEN each record's work is a child of that record's process span, in its producer's trace
    for n in "123":
        charge = by_name(spans, f"charge {n}")
        assert (charge["trace_id"], charge["parent_id"]) == (records[n]["trace_id"], records[n]["span_id"])
    assert by_name(spans, "charge 1")["trace_id"] == TRACE_HEX
    # AND the batch is still the same records, a list to the handler
    assert isinstance(event["Records"], list) and len(event["Records"]) == 3
    assert json.loads(json.dumps(event))["Records"][0]["messageId"].endswith("1")


def test_a_handler_failing_mid_batch_leaves_no_record_context_behind() -> None:
    from opentelemetry import trace

    def fails_on_second(event: Any, context: Any) -> Any:
        for record in event["Records"]:
            if record["messageId"].endswith("2"):
                raise Boom("declined")

    before = trace.get_current_span()
    _, raised, spans, _ = run(wrap(fails_on_second), load_event("sqs_mixed_batch"), LambdaContext())
    assert isinstance(raised, Boom)
    del raised
    assert trace.get_current_span() is before
    assert invocation_span(spans)["status"]["code"] == "error"


def test_single_trace_batch_continues_that_trace() -> None:
    _, _, spans, _ = run(wrap(echo), load_event("sqs"), LambdaContext())
    invocation = invocation_span(spans)
    record = next(s for s in spans if s is not invocation and s["name"].startswith("process"))
    assert invocation["trace_id"] == TRACE_HEX and record["parent_id"] == invocation["span_id"]


def test_partial_batch_failures_mark_failed_records() -> None:
    def partial(event: Any, context: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": "11111111-0000-4000-8000-000000000002"}]}

    _, _, spans, _ = run(wrap(partial), load_event("sqs_mixed_batch"), LambdaContext())
    records = {s["attributes"].get("messaging.message.id"): s for s in spans if s["kind"] == "consumer"}
    assert records["11111111-0000-4000-8000-000000000002"]["status"]["code"] == "error"
    assert records["11111111-0000-4000-8000-000000000001"]["status"]["code"] == "unset"
    # AND the invocation's status says which record failed and why
    assert invocation_span(spans)["status"] == {"code": "error", "message": "1 of 3 records failed: the handler "
                                                "returned 11111111-0000-4000-8000-000000000002 in batchItemFailures"}


@pytest.mark.parametrize(("failures", "why"), [
    ([{"itemIdentifier": "11111111-0000-4000-8000-000000000002"}, {"itemIdentifier": ""}], "an empty itemIdentifier"),
    ([{"itemIdentifier": None}], "a null itemIdentifier"),
    ([{"id": "11111111-0000-4000-8000-000000000002"}], "an entry without itemIdentifier"),
    ([{"itemIdentifier": {"unhashable": 1}}], "the itemIdentifier \"{'unhashable': 1}\", not a record of this batch"),
    ([{"itemIdentifier": "not-in-this-batch"}], "the itemIdentifier 'not-in-this-batch', not a record of this batch"),
    (["11111111-0000-4000-8000-000000000002"], "an entry that is not an object"),
    ("all", "batchItemFailures as str, not a list"),
])
def test_an_invalid_partial_batch_response_fails_every_record_as_lambda_does(failures: Any, why: str) -> None:
    # GIVEN a handler whose partial batch response Lambda cannot take (it then retries the whole batch)
    def partial(event: Any, context: Any) -> Any:
        return {"batchItemFailures": failures}

    result, raised, spans, _ = run(wrap(partial), load_event("sqs_mixed_batch"), LambdaContext())
    # THEN the response passes through, every record is marked failed, and the invocation says why
    assert raised is None and result == {"batchItemFailures": failures}
    records = [s for s in spans if s["kind"] == "consumer" and s is not invocation_span(spans)]
    assert len(records) == 3 and all(r["attributes"]["hoptrace.batch_item_failed"] is True for r in records)
    assert all(r["status"]["code"] == "error" for r in records)
    assert invocation_span(spans)["status"] == {"code": "error", "message": (
        f"all 3 records failed: the handler returned {why} in batchItemFailures, which Lambda reads as the whole "
        "batch failing")}
    assert invocation_span(spans)["attributes"]["hoptrace.batch_item_failures"] == 3


def test_user_spans_and_botocore_spans_join_the_invocation() -> None:
    from opentelemetry import trace

    def with_child(event: Any, context: Any) -> Any:
        with trace.get_tracer("user").start_as_current_span("charge card"):
            return "done"

    _, _, spans, _ = run(wrap(with_child), load_event("sns"), LambdaContext())
    child = by_name(spans, "charge card")
    assert child["parent_id"] == invocation_span(spans)["span_id"]


def test_secrets_never_reach_the_output() -> None:
    # GIVEN payload capture on and an event full of secrets
    settings = {"capture_payload": True, "redacted_keys": Config().redacted_keys | {"card_number"}}
    event = load_event("apigateway_v1")
    event["body"] = json.dumps({"card_number": "4111111111111111", "password": "hunter2", "item": "book"})

    def handler(event: Any, context: Any) -> Any:
        return {"statusCode": 200, "headers": {"Set-Cookie": "session=s3cr3t"}, "body": "ok"}

    _, _, spans, text = run(wrap(handler, **settings), event, LambdaContext())
    # THEN none of them appears anywhere in what was written, but the rest was captured
    for secret in ("secret-token-abc", "s3cr3t", "key-123", "qs-secret", "4111111111111111", "hunter2"):
        assert secret not in text
    span = invocation_span(spans)
    assert "book" in span["attributes"]["hoptrace.event.payload"]
    assert span["attributes"]["http.request.header.authorization"] == "[REDACTED]"


def test_payload_capture_is_capped() -> None:
    traced = wrap(echo, capture_payload=True, payload_max_bytes=100)
    _, _, spans, _ = run(traced, {"blob": "x" * 10_000}, LambdaContext())
    payload = invocation_span(spans)["attributes"]["hoptrace.event.payload"]
    assert len(payload) < 200 and "truncated" in payload


def test_oversized_attributes_are_truncated_not_dropped() -> None:
    from opentelemetry import trace

    def big(event: Any, context: Any) -> Any:
        trace.get_current_span().set_attribute("big", "y" * 1_000_000)
        return 1

    _, _, spans, text = run(wrap(big), {}, LambdaContext())
    assert len(invocation_span(spans)["attributes"]["big"]) == Config().max_attribute_length
    assert max(len(line) for line in text.splitlines()) <= wire.MAX_LINE_BYTES


def test_many_spans_are_split_into_lines_under_the_limit() -> None:
    from opentelemetry import trace

    def chatty(event: Any, context: Any) -> Any:
        tracer = trace.get_tracer("user")
        for i in range(400):
            with tracer.start_as_current_span(f"step {i}") as span:
                span.set_attribute("blob", "z" * 2000)
        return "ok"

    _, _, spans, text = run(wrap(chatty), {}, LambdaContext())
    lines = text.splitlines()
    assert len(lines) > 1 and all(len(line.encode()) <= wire.MAX_LINE_BYTES for line in lines)
    assert len(spans) == 401


# ---- fail open ------------------------------------------------------------------------


def test_broken_tracer_never_breaks_the_handler(monkeypatch: pytest.MonkeyPatch, engine: Any) -> None:
    # GIVEN OpenTelemetry in a broken state
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer exploded")

    monkeypatch.setattr(engine, "start_span", broken)
    health.clear()
    # WHEN the handler runs THEN it returns exactly what it returns bare, and the failure is counted
    result, raised, _spans, _ = run(wrap(echo), load_event("sqs"), LambdaContext())
    assert raised is None and result == echo(load_event("sqs"), None)
    assert health.drain().get("invocation.start") == 1
    health.clear()


def test_closed_stdout_is_swallowed_and_counted_in_the_next_line() -> None:
    health.clear()
    closed = io.StringIO()
    closed.close()
    with redirect_stdout(closed):
        assert wrap(echo)({"a": 1}, LambdaContext()) == echo({"a": 1}, None)
    _, _, _, text = run(wrap(echo), {"a": 1}, LambdaContext())
    payload = json.loads(text.splitlines()[0][len(wire.PREFIX):])
    assert payload["health"]["errors"]["export.stdout"] == 1
    assert health.drain() == {}


def test_unserialisable_attributes_do_not_break_anything() -> None:
    from opentelemetry import trace

    def odd(event: Any, context: Any) -> Any:
        trace.get_current_span().set_attribute("obj", object())  # rejected by the SDK, not by us
        trace.get_current_span().set_attribute("kept", "yes")
        return "fine"

    result, raised, spans, _ = run(wrap(odd), {}, LambdaContext())
    assert result == "fine" and raised is None
    [invocation] = [s for s in spans if s["attributes"].get("kept") == "yes"]
    # the object never reaches the wire: dropped, or nulled (the OpenTelemetry SDK keeps the key as None)
    assert invocation["attributes"].get("obj") is None
    assert "object at 0x" not in json.dumps(spans)


def test_disabled_returns_the_handler_itself() -> None:
    assert wrap(echo, Config(enabled=False)) is echo


def test_decorator_forms() -> None:
    @hoptrace.trace
    def plain(event: Any, context: Any) -> Any:
        return "a"

    @hoptrace.trace(config=Config(service_name="billing"))
    def configured(event: Any, context: Any) -> Any:
        return "b"

    assert run(plain, {}, LambdaContext())[0] == "a"
    result, _, _, text = run(configured, {}, LambdaContext())
    assert result == "b" and '"service.name":"billing"' in text
    assert plain.__name__ == "plain"
