"""Python logging records carry the running span's ids: the invocation's, or a batch record's own span."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from hoptrace import logcorrelation
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Any:
    handler = Collect()
    logger = logging.getLogger("shop.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, handler.records
    logger.removeHandler(handler)


def test_records_logged_in_a_handler_carry_its_trace_and_span(logged: Any) -> None:
    logger, records = logged

    def handler(event: Any, context: Any) -> Any:
        logger.info("charging")
        return {"statusCode": 200}

    _result, raised, spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    invocation = invocation_span(spans)
    assert raised is None
    assert (records[0].trace_id, records[0].span_id) == (invocation["trace_id"], invocation["span_id"])


def test_each_batch_record_is_logged_under_its_own_span(logged: Any) -> None:
    # GIVEN a batch whose records come from different traces (each gets its own process span)
    logger, records = logged

    def handler(event: Any, context: Any) -> Any:
        for record in event["Records"]:
            logger.error("cannot process %s", record["messageId"])
        return {}

    _result, _raised, spans, _ = run(wrap(handler), load_event("sqs_mixed_batch"), LambdaContext())
    process = {s["attributes"]["messaging.message.id"]: s for s in spans
               if s["attributes"].get("messaging.message.id") and "faas.invocation_id" not in s["attributes"]}
    assert len(records) == len(process) >= 2
    for record in records:
        message_id = record.getMessage().rsplit(" ", 1)[1]
        assert (record.trace_id, record.span_id) == (process[message_id]["trace_id"], process[message_id]["span_id"])


def test_outside_an_invocation_nothing_is_added(logged: Any) -> None:
    logger, records = logged
    logcorrelation.install()
    logger.info("at init")
    assert "trace_id" not in vars(records[0]) and not hasattr(records[0], "trace_id")


def test_the_callers_own_extra_fields_still_work(logged: Any) -> None:
    # logging refuses an `extra` key already on the record: ours must not make a user's call raise
    logger, records = logged

    def handler(event: Any, context: Any) -> Any:
        logger.info("mine", extra={"trace_id": "their-id", "order": 7})
        return {}

    _result, raised, _spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    assert raised is None and records[0].trace_id == "their-id" and records[0].order == 7


def test_a_json_formatter_that_serialises_extra_fields_sees_the_ids(logged: Any) -> None:
    logger, _ = logged
    out = io.StringIO()
    stream = logging.StreamHandler(out)
    stream.setFormatter(type("Json", (logging.Formatter,), {"format": lambda self, r: json.dumps(
        {k: v for k, v in vars(r).items() if k in ("msg", "trace_id", "span_id")})})())
    logger.addHandler(stream)
    try:
        _result, _raised, spans, _ = run(wrap(lambda e, c: logger.info("x")), load_event("apigateway_v1"),
                                         LambdaContext())
    finally:
        logger.removeHandler(stream)
    assert json.loads(out.getvalue())["trace_id"] == invocation_span(spans)["trace_id"]


def test_installing_twice_wraps_once() -> None:
    logcorrelation.install()
    factory = logging.getLogRecordFactory()
    assert logcorrelation.install() is False and logging.getLogRecordFactory() is factory
