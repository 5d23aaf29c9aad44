"""The OTLP/HTTP receiver: the real OpenTelemetry SDK exporter, JSON and protobuf, and every refusal."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from hoptrace import wire
from hoptrace.otlp import to_otlp
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.otlp import decode
from hoptrace_collector.otlp.server import OtlpReceiver
from hoptrace_collector.store import Store, StoreError, TraceFilter, open_store
from tests.collector.payloads import OK_HANDLER, subscription_event, traced_lines
from tests.conftest import LambdaContext, load_event

TRACE = "5759e988bd862e3fe1be46a994272793"


@pytest.fixture
def receiver(store: Store) -> Iterator[OtlpReceiver]:
    running = OtlpReceiver(store, port=0, max_body_bytes=64 * 1024).start()
    yield running
    running.shutdown()


def post(url: str, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_spans_from_the_opentelemetry_sdk_exporter(receiver: OtlpReceiver, store: Store) -> None:
    # GIVEN an application traced with the stock OpenTelemetry SDK, exporting OTLP/HTTP protobuf to us
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode

    provider = TracerProvider(resource=Resource.create({"service.name": "checkout", "deployment": "test"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.url, timeout=5)))
    tracer = provider.get_tracer("test")
    # WHEN it records a server span with a failing child, attributes of every type, an event and a link
    with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER, attributes={
            "http.request.method": "POST", "http.response.status_code": 500, "ratio": 0.25, "retry": True,
            "tags": ["a", "b"], "faas.invocation_id": "req-1"}) as root:
        root.add_event("cart loaded", {"items": 3})
        linked = root.get_span_context()
        with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT, links=[Link(linked)]) as child:
            child.set_status(Status(StatusCode.ERROR, "card declined"))
    provider.shutdown()
    # THEN both spans are stored as OTLP spans of the checkout service, faithfully
    trace_id = f"{linked.trace_id:032x}"
    spans = {s.name: s for s in store.get_trace(trace_id)}
    root_span, charge = spans["POST /checkout"], spans["charge card"]
    assert (root_span.kind, root_span.source, root_span.service, root_span.function) == (
        "server", "otlp", "checkout", "checkout")
    assert root_span.attributes["http.response.status_code"] == 500 and root_span.attributes["retry"] is True
    assert root_span.attributes["tags"] == ["a", "b"] and root_span.request_id == "req-1"
    assert root_span.events[0]["name"] == "cart loaded" and root_span.events[0]["attributes"] == {"items": 3}
    assert root_span.resource["deployment"] == "test"
    assert (charge.parent_id, charge.status, charge.status_message) == (root_span.span_id, "error", "card declined")
    assert charge.links[0]["span_id"] == root_span.span_id
    assert receiver.received == 2


def test_json_export_stores_what_the_log_path_stores(receiver: OtlpReceiver, store: Store, tmp_path) -> None:
    # GIVEN the layer's own span line, converted to OTLP/JSON by hoptrace.otlp (what HOPTRACE_OTLP_ENDPOINT sends:
    # the whole resource, which the line leaves to its log group and stream)
    line = traced_lines(OK_HANDLER, load_event("apigateway_v1"))[0]
    resource, spans, _ = wire.decode(line.rstrip("\n"))
    context = LambdaContext()
    resource = wire.full_resource(resource, context.log_group_name, context.log_stream_name)
    body = json.dumps(to_otlp([(resource, spans)])).encode()
    # WHEN posted as JSON, twice
    assert post(receiver.url, body) == (200, b"{}")
    assert post(receiver.url, body)[0] == 200
    # THEN the spans equal those the collector reads from the log, but for their source; no duplicates
    other = open_store(str(tmp_path / "logs.db"))
    Ingestor(other).ingest(subscription_event([line]))
    from_logs = other.get_trace(TRACE)
    from_otlp = store.get_trace(TRACE)
    assert [s.source for s in from_otlp] == ["otlp"] * len(from_logs)
    assert [(s.span_id, s.attributes, s.resource, s.function, s.cold_start) for s in from_otlp] == [
        (s.span_id, s.attributes, s.resource, s.function, s.cold_start) for s in from_logs]
    assert store.list_traces(TraceFilter())[0].span_count == len(from_logs)


def test_invalid_spans_are_a_partial_success(receiver: OtlpReceiver, store: Store) -> None:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    request = trace_service_pb2.ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    good = scope.spans.add(trace_id=bytes.fromhex(TRACE), span_id=bytes.fromhex("1" * 16), name="ok", kind=2,
                           start_time_unix_nano=10, end_time_unix_nano=20)
    good.attributes.add(key="n").value.int_value = 7
    scope.spans.add(trace_id=b"\x00" * 16, span_id=bytes.fromhex("2" * 16), name="zero trace id",
                    start_time_unix_nano=10, end_time_unix_nano=20)
    status, body = post(receiver.url, request.SerializeToString(), "application/x-protobuf")
    response = trace_service_pb2.ExportTraceServiceResponse()
    response.ParseFromString(body)
    assert status == 200 and response.partial_success.rejected_spans == 1
    assert "trace_id" in response.partial_success.error_message
    [stored] = store.get_trace(TRACE)
    assert (stored.name, stored.kind, stored.attributes) == ("ok", "server", {"n": 7})
    bad_json = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": "1", "name": "x"}]}]}]}
    status, body = post(receiver.url, json.dumps(bad_json).encode())  # nothing storable: permanent, 400
    assert status == 400 and b"trace_id" in body


@pytest.mark.parametrize(("path", "body", "content_type", "headers", "status", "says"), [
    ("/v1/traces", b"{not json", "application/json", {}, 400, "not JSON"),
    ("/v1/traces", b"[1, 2]", "application/json", {}, 400, "resourceSpans"),
    ("/v1/traces", b"\xff\xff\xff", "application/x-protobuf", {}, 400, "protobuf"),
    ("/v1/traces", b"{}", "text/plain", {}, 415, "Content-Type"),
    ("/v1/traces", b"{}", "application/json", {"Content-Encoding": "br"}, 415, "Content-Encoding"),
    ("/v1/traces", b"x" * 70_000, "application/json", {}, 413, "limit"),
    ("/v1/traces", gzip.compress(b" " * 70_000), "application/json", {"Content-Encoding": "gzip"}, 413, "inflates"),
    ("/v1/metrics", b"{}", "application/json", {}, 404, "no such endpoint"),
])
def test_refusals(receiver: OtlpReceiver, path: str, body: bytes, content_type: str, headers: dict[str, str],
                  status: int, says: str) -> None:
    got, text = post(f"http://127.0.0.1:{receiver.port}{path}", body, content_type, headers)
    assert got == status and says in text.decode()


def test_gzip_bodies_are_accepted(receiver: OtlpReceiver, store: Store) -> None:
    span = {"traceId": TRACE, "spanId": "3" * 16, "name": "zipped", "kind": "SPAN_KIND_CONSUMER",
            "startTimeUnixNano": "5", "endTimeUnixNano": "6", "status": {"code": "STATUS_CODE_ERROR"}}
    body = gzip.compress(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode())
    assert post(receiver.url, body, headers={"Content-Encoding": "gzip"})[0] == 200
    [stored] = store.get_trace(TRACE)
    assert (stored.kind, stored.status, stored.service) == ("consumer", "error", "unknown_service")


def test_token_is_required_off_loopback_and_checked(store: Store) -> None:
    with pytest.raises(ValueError, match="without a token"):
        OtlpReceiver(store, host="0.0.0.0", port=0)
    receiver = OtlpReceiver(store, host="0.0.0.0", port=0, token="s3cret").start()
    try:
        url = f"http://127.0.0.1:{receiver.port}/v1/traces"
        assert post(url, b"{}")[0] == 401
        assert post(url, b"{}", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert post(url, b"{}", headers={"Authorization": "Bearer s3cret"})[0] == 200
    finally:
        receiver.shutdown()


def test_store_failure_is_503_so_senders_retry(store: Store) -> None:
    class Broken:
        def write(self, *args: Any, **kwargs: Any) -> Any:
            raise StoreError("disk full")

    receiver = OtlpReceiver(Broken(), port=0).start()  # type: ignore[arg-type]
    try:
        span = {"traceId": TRACE, "spanId": "4" * 16, "name": "x", "startTimeUnixNano": 1, "endTimeUnixNano": 2}
        status, text = post(receiver.url, json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode())
        assert status == 503 and b"disk full" in text
    finally:
        receiver.shutdown()


def test_protobuf_without_opentelemetry_proto_says_what_to_install(receiver: OtlpReceiver,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Any:
        raise decode.ProtobufUnavailable("this receiver cannot read OTLP protobuf without opentelemetry-proto "
                                         "(pip install 'hoptrace[collector]')")

    monkeypatch.setattr(decode, "protobuf_module", missing)
    status, text = post(receiver.url, b"\x0a\x00", "application/x-protobuf")
    assert status == 415 and b"hoptrace[collector]" in text
