"""Outbound injection per service, through real botocore clients (stubbed or moto in-process)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hoptrace import health
from hoptrace.outbound import events, lmbd, message_attributes
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import run

TP = "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"

XR = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_message_attributes_get_traceparent() -> None:
    entry: dict[str, Any] = {"MessageBody": "x"}
    message_attributes.inject(entry, TP, "sqs")
    assert entry["MessageAttributes"] == {"traceparent": {"DataType": "String", "StringValue": TP}}


def test_ninth_and_tenth_slots_are_used_but_never_an_eleventh() -> None:
    nine = {"MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(9)}}
    message_attributes.inject(nine, TP, "sns")
    assert len(nine["MessageAttributes"]) == 10 and "traceparent" in nine["MessageAttributes"]
    health.clear()
    ten = {"MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)}}
    before = json.dumps(ten, sort_keys=True)
    message_attributes.inject(ten, TP, "sns")
    assert json.dumps(ten, sort_keys=True) == before
    assert health.drain() == {"sns.attribute_limit": 1}
    health.clear()


def test_existing_traceparent_is_respected() -> None:
    entry = {"MessageAttributes": {"TraceParent": {"DataType": "String", "StringValue": "mine"}}}
    message_attributes.inject(entry, TP, "sqs")
    assert entry["MessageAttributes"] == {"TraceParent": {"DataType": "String", "StringValue": "mine"}}


def test_put_events_injects_into_json_detail_and_leaves_others_untouched() -> None:
    params = {"Entries": [
        {"Source": "shop", "DetailType": "A", "Detail": '{"order_id": "1"}'},
        {"Source": "shop", "DetailType": "B", "Detail": "not json"},
        {"Source": "shop", "DetailType": "C", "Detail": "[1, 2]"},
    ]}
    events.put_events(params, TP, XR)
    first, second, third = params["Entries"]
    assert json.loads(first["Detail"]) == {"order_id": "1", "_hoptrace": {"traceparent": TP}}
    assert first["TraceHeader"] == XR
    assert second == {"Source": "shop", "DetailType": "B", "Detail": "not json"}
    assert third == {"Source": "shop", "DetailType": "C", "Detail": "[1, 2]"}


def test_invoke_uses_client_context_and_async_uses_payload() -> None:
    sync = {"FunctionName": "f", "Payload": b'{"a": 1}',
            "ClientContext": base64.b64encode(json.dumps({"custom": {"k": "v"}, "env": {}}).encode()).decode()}
    lmbd.invoke(sync, TP, XR)
    assert json.loads(base64.b64decode(sync["ClientContext"]))["custom"] == {"k": "v", "traceparent": TP}
    assert sync["Payload"] == b'{"a": 1}'  # the payload of a synchronous call is never touched
    async_call = {"FunctionName": "f", "InvocationType": "Event", "Payload": '{"a": 1}'}
    lmbd.invoke(async_call, TP, XR)
    assert json.loads(async_call["Payload"]) == {"a": 1, "_hoptrace": {"traceparent": TP}}
    binary = {"FunctionName": "f", "InvocationType": "Event", "Payload": b"\x00\x01"}
    lmbd.invoke(binary, TP, XR)
    assert binary["Payload"] == b"\x00\x01"


@pytest.mark.usefixtures("engine")
def test_real_botocore_invoke_carries_context_from_the_client_span() -> None:
    # GIVEN a real Lambda client whose HTTP layer is stubbed
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    seen: dict[str, Any] = {}
    client.meta.events.register("before-parameter-build.lambda.Invoke", lambda params, **_: seen.update(params))
    stubber = Stubber(client)
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": b"{}"})

    def handler(event: Any, context: Any) -> Any:
        with stubber:
            client.invoke(FunctionName="payments", Payload=b"{}")
        return "ok"

    # WHEN a traced handler invokes another function
    _, _, spans, _ = run(wrap(handler), load_event("apigateway_v1"), LambdaContext())
    # THEN ClientContext carries a traceparent whose parent is the botocore client span
    custom = json.loads(base64.b64decode(seen["ClientContext"]))["custom"]
    client_span = next(s for s in spans if s["attributes"].get("rpc.method") == "Invoke")
    assert custom["traceparent"] == f"00-{client_span['trace_id']}-{client_span['span_id']}-01"
    assert client_span["attributes"]["rpc.method"] == "Invoke"
    # AND the synchronous call's payload is sent exactly as the handler gave it
    assert seen["Payload"] == b"{}"


@pytest.mark.usefixtures("engine")
def test_outgoing_http_carries_traceparent(tmp_path: Any) -> None:
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import urllib3

    received: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.headers.get("traceparent"))
            self.send_response(404 if self.path == "/missing" else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def handler(event: Any, context: Any) -> Any:
        urllib3.PoolManager().request("GET", base + "/orders/1")
        with urllib.request.urlopen(base + "/orders/2") as response:
            response.read()
        try:
            urllib.request.urlopen(base + "/missing")
        except Exception:
            pass
        return "ok"

    try:
        _, _, spans, _ = run(wrap(handler), load_event("sns"), LambdaContext())
    finally:
        server.shutdown()
    clients = [s for s in spans if "url.full" in s["attributes"]]
    assert len(clients) == 3 and len(received) == 3
    assert sorted(received) == sorted(f"00-{s['trace_id']}-{s['span_id']}-01" for s in clients)
    assert sorted(s["attributes"]["http.response.status_code"] for s in clients) == [200, 200, 404]
    assert [s["status"]["code"] for s in clients].count("error") == 1


@pytest.mark.usefixtures("engine")
def test_optional_otlp_endpoint_receives_each_invocation() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


    bodies: list[tuple[str, dict]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            bodies.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        traced = wrap(lambda event, context: "ok", otlp_endpoint=endpoint)
        _, _, spans, _ = run(traced, load_event("sns"), LambdaContext())
    finally:
        server.shutdown()
    # THEN the same spans went to stdout and, as OTLP/JSON, to the endpoint's /v1/traces
    [(path, request)] = bodies
    sent = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert path == "/v1/traces" and {s["spanId"] for s in sent} == {s["span_id"] for s in spans}


@pytest.mark.usefixtures("engine")
def test_unreachable_otlp_endpoint_is_counted_not_raised() -> None:

    health.clear()
    traced = wrap(lambda event, context: "ok", otlp_endpoint="http://127.0.0.1:9", otlp_timeout_s=0.5)
    result, raised, spans, _ = run(traced, {}, LambdaContext())
    assert result == "ok" and raised is None and spans
    assert health.drain().get("export.otlp") == 1
    health.clear()
