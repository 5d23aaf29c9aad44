"""OpenTelemetry stays the interface: spans made through opentelemetry-api land inside the invocation's trace."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from opentelemetry import trace

from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import by_name, invocation_span, run

pytestmark = pytest.mark.usefixtures("engine")


def test_user_spans_nest_and_aws_calls_inside_them_are_their_children() -> None:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    def handler(event: Any, context: Any) -> Any:
        tracer = trace.get_tracer("shop.checkout")
        trace.get_current_span().set_attribute("order.id", "o-42")  # the invocation span, through the API
        with tracer.start_as_current_span("checkout", attributes={"cart.items": 3}) as checkout:
            with tracer.start_as_current_span("reserve stock", kind=trace.SpanKind.CLIENT):
                pass
            with Stubber(client) as stub:
                stub.add_response("send_message", {"MessageId": "m"})
                client.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/q", MessageBody="x")
            checkout.add_event("paid", {"amount": 9.5})
            checkout.set_status(trace.Status(trace.StatusCode.ERROR, "declined"))
        return "ok"

    _, raised, spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    assert raised is None
    invocation, checkout = invocation_span(spans), by_name(spans, "checkout")
    # THEN the user's spans are in the invocation's trace, nested as written
    assert invocation["attributes"]["order.id"] == "o-42"
    assert (checkout["trace_id"], checkout["parent_id"]) == (invocation["trace_id"], invocation["span_id"])
    assert by_name(spans, "reserve stock")["parent_id"] == checkout["span_id"]
    assert by_name(spans, "reserve stock")["kind"] == "client"
    # AND the AWS SDK call made inside the user's span is its child
    assert by_name(spans, "SQS.SendMessage")["parent_id"] == checkout["span_id"]
    assert checkout["attributes"]["cart.items"] == 3 and checkout["status"] == {"code": "error", "message": "declined"}
    assert [e["name"] for e in checkout["events"]] == ["paid"]


def test_an_exception_in_a_user_span_is_recorded_there_and_still_reaches_lambda() -> None:
    def handler(event: Any, context: Any) -> Any:
        with trace.get_tracer("shop").start_as_current_span("charge"):
            raise ValueError("card declined")

    _, raised, spans, _ = run(wrap(handler), {}, LambdaContext())
    assert isinstance(raised, ValueError)
    charge = by_name(spans, "charge")
    assert charge["status"]["code"] == "error" and charge["events"][0]["name"] == "exception"
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left current after the invocation


def test_a_user_span_decorating_a_coroutine_spans_its_await() -> None:
    # The API's start_as_current_span is also a decorator for `async def` (OpenTelemetry's own tracer
    # handles coroutines); a plain contextmanager would end the span before the coroutine ran.
    def handler(event: Any, context: Any) -> Any:
        tracer = trace.get_tracer("shop")

        @tracer.start_as_current_span("fetch")
        async def fetch() -> str:
            await asyncio.sleep(0)
            with tracer.start_as_current_span("parse"):
                return "ok"

        return asyncio.run(fetch())

    result, raised, spans, _ = run(wrap(handler), {}, LambdaContext())
    assert (result, raised) == ("ok", None)
    assert by_name(spans, "parse")["parent_id"] == by_name(spans, "fetch")["span_id"]


@pytest.fixture
def http_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(self.headers.get("traceparent", "").encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_third_party_opentelemetry_instrumentation_lands_in_the_invocations_trace(http_server: str) -> None:
    import requests
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    # GIVEN the function instruments requests with OpenTelemetry's own instrumentation
    RequestsInstrumentor().instrument()
    try:
        def handler(event: Any, context: Any) -> Any:
            return requests.get(http_server + "/inventory/7", timeout=5).text

        sent, raised, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    finally:
        RequestsInstrumentor().uninstrument()
    # THEN its client span is in the invocation's trace, under the invocation
    assert raised is None
    invocation = invocation_span(spans)
    [theirs] = [s for s in spans if s["name"] == "GET" and s["kind"] == "client"]
    assert (theirs["trace_id"], theirs["parent_id"]) == (invocation["trace_id"], invocation["span_id"])
    # AND the request carried a traceparent of that trace
    assert sent.split("-")[1] == invocation["trace_id"]
