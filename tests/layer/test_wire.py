"""The wire format: encode/decode, splitting under CloudWatch's limit, validation, OTLP mapping."""

from __future__ import annotations

import base64
import json
import math
import random

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from hoptrace import otlp, wire

RESOURCE = {"service.name": "orders", "cloud.region": "us-east-1"}


def span(i: int = 0, **overrides: object) -> dict:
    base = {
        "trace_id": "5759e988bd862e3fe1be46a994272793", "span_id": f"{i + 1:016x}", "parent_id": None,
        "name": f"span {i}", "kind": "server", "start": 1_795_593_398_000_000_000, "end": 1_795_593_398_100_000_000,
        "status": {"code": "error", "message": "boom"},
        "attributes": {"s": "x", "i": 7, "f": 1.5, "b": True, "list": ["a", "b"]},
        "events": [{"name": "exception", "time": 1_795_593_398_050_000_000, "attributes": {"exception.type": "E"}}],
        "links": [{"trace_id": "6759e988bd862e3fe1be46a994272794", "span_id": "63995c3f42cd8ad9", "attributes": {}}],
    }
    base.update(overrides)
    return base


def test_round_trip() -> None:
    lines = wire.encode([span(0), span(1)], RESOURCE, {"export.stdout": 2})
    assert len(lines) == 1 and lines[0].startswith("HOPTRACE {")
    resource, spans, problems = wire.decode(lines[0])
    assert resource == RESOURCE and spans == [span(0), span(1)] and problems == []
    assert json.loads(lines[0][len(wire.PREFIX):])["health"] == {"errors": {"export.stdout": 2}}


def test_large_invocations_split_into_self_contained_lines() -> None:
    spans = [span(i, attributes={"blob": "x" * 3000}) for i in range(200)]
    lines = wire.encode(spans, RESOURCE)
    assert len(lines) > 2
    assert all(len(line.encode()) <= wire.MAX_LINE_BYTES for line in lines)
    decoded = [s for line in lines for s in wire.decode(line)[1]]
    assert decoded == spans


def test_a_single_huge_span_is_cut_into_parts_and_reassembled_in_any_order() -> None:
    huge = span(0, attributes={"blob": "y" * 600_000})
    lines = wire.encode([huge], RESOURCE)
    assert len(lines) >= 3 and all(line.startswith(wire.PART_PREFIX) for line in lines)
    assert all(len(line.encode()) <= wire.MAX_LINE_BYTES for line in lines)
    random.shuffle(lines)
    assembler = wire.Reassembler()
    results = [assembler.feed(line) for line in lines]
    [whole] = [r for r in results if r is not None]
    assert wire.decode(whole)[1] == [huge]
    assert assembler.incomplete() == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("HOPTRACE {not json", "not valid JSON"),
        ('HOPTRACE {"v": 99, "resource": {}, "spans": []}', "unknown wire version 99"),
        ('HOPTRACE {"v": 1, "spans": []}', "needs a 'resource'"),
        ("HOPTRACE [1,2]", "must be a JSON object"),
    ],
)
def test_bad_lines_raise_a_clear_error(line: str, message: str) -> None:
    with pytest.raises(wire.WireError, match=message):
        wire.decode(line)


def test_a_parser_raising_a_plain_value_error_still_gives_a_wire_error() -> None:
    # `loads` may be any parser raising ValueError; only json's errors have `msg` and `pos`.
    def loads(text: str) -> object:
        raise ValueError("unexpected byte 0x7b")

    with pytest.raises(wire.WireError, match=r"not valid JSON \(unexpected byte 0x7b\)"):
        wire.decode("HOPTRACE {", loads)
    with pytest.raises(wire.WireError, match=r"not valid JSON \(Expecting .* at char 1\)"):
        wire.decode("HOPTRACE {")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"trace_id": "XYZ"}, "trace_id"),
        ({"trace_id": "0" * 32}, "trace_id"),
        ({"span_id": 5}, "span_id"),
        ({"parent_id": "short"}, "parent_id"),
        ({"kind": "weird"}, "kind"),
        ({"start": "yesterday"}, "start/end"),
        ({"end": 1}, "start/end"),
        ({"status": {"code": "fine"}}, "status.code"),
        ({"attributes": []}, "attributes"),
        ({"events": "nope"}, "events"),
    ],
)
def test_bad_spans_are_reported_and_their_neighbours_kept(bad: dict, message: str) -> None:
    line = wire.encode([span(0), span(1, **bad), span(2)], RESOURCE)[0]
    _, spans, problems = wire.decode(line)
    assert [s["name"] for s in spans] == ["span 0", "span 2"]
    assert len(problems) == 1 and problems[0].startswith("span 1:") and message in problems[0]


@pytest.mark.parametrize("piece", ["HOPTRACE-PART abc", "HOPTRACE-PART abc x/y text", "HOPTRACE-PART abc 3/2 t"])
def test_bad_parts_raise(piece: str) -> None:
    with pytest.raises(wire.WireError):
        wire.Reassembler().feed(piece)


def _hex_ids_to_base64(value: object) -> object:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping expects base64 for bytes."""
    if isinstance(value, dict):
        return {k: (base64.b64encode(bytes.fromhex(v)).decode() if k in {"traceId", "spanId", "parentSpanId"}
                    else _hex_ids_to_base64(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_hex_ids_to_base64(v) for v in value]
    return value


def test_otlp_json_matches_the_otlp_protobuf_schema() -> None:
    # GIVEN wire spans with every field type
    parent = span(1, parent_id="0000000000000001", kind="consumer", status={"code": "unset"})
    request = otlp.to_otlp([(RESOURCE, [span(0), parent])])
    # WHEN parsed strictly by the OTLP protobuf schema
    message = json_format.Parse(json.dumps(_hex_ids_to_base64(request)), ExportTraceServiceRequest())
    # THEN every field landed where OTLP defines it
    [resource_spans] = message.resource_spans
    assert {a.key: a.value.string_value for a in resource_spans.resource.attributes} == RESOURCE
    first, second = resource_spans.scope_spans[0].spans
    assert first.trace_id.hex() == "5759e988bd862e3fe1be46a994272793" and first.span_id.hex() == "0000000000000001"
    assert first.kind == 2 and first.status.code == 2 and first.status.message == "boom"
    assert first.start_time_unix_nano == 1_795_593_398_000_000_000
    attributes = {a.key: a.value for a in first.attributes}
    assert attributes["i"].int_value == 7 and attributes["f"].double_value == 1.5 and attributes["b"].bool_value
    assert [v.string_value for v in attributes["list"].array_value.values] == ["a", "b"]
    assert first.events[0].name == "exception" and first.links[0].span_id.hex() == "63995c3f42cd8ad9"
    assert second.parent_span_id.hex() == "0000000000000001" and second.kind == 5 and second.status.code == 0


def test_otlp_json_carries_numbers_otlp_has_no_type_for_without_breaking_the_request() -> None:
    # GIVEN attributes past int64 and not finite (a Python int is unbounded; an OTLP sender may send NaN)
    odd = {"u64": 2**63 + 5, "below": -(2**63) - 1, "max": 2**63 - 1, "min": -(2**63), "nan": float("nan"),
           "inf": float("inf"), "ninf": float("-inf")}
    request = otlp.to_otlp([(RESOURCE, [span(0, attributes=odd)])])
    # WHEN encoded as strict JSON and parsed by the OTLP protobuf schema
    message = json_format.Parse(json.dumps(_hex_ids_to_base64(request), allow_nan=False), ExportTraceServiceRequest())
    # THEN the request is valid whole, and each value is kept as exactly as OTLP can carry it
    values = {a.key: a.value for a in message.resource_spans[0].scope_spans[0].spans[0].attributes}
    assert (values["max"].int_value, values["min"].int_value) == (2**63 - 1, -(2**63))
    assert (values["u64"].string_value, values["below"].string_value) == (str(2**63 + 5), str(-(2**63) - 1))
    assert math.isnan(values["nan"].double_value)
    assert (values["inf"].double_value, values["ninf"].double_value) == (math.inf, -math.inf)


# -- the resource a line carries: what its log group and stream say is left out ---------------------------

LAMBDA_RESOURCE = {"service.name": "orders", "cloud.provider": "aws", "cloud.platform": "aws_lambda",
                   "telemetry.sdk.name": "hoptrace", "telemetry.sdk.version": "0.1.0",
                   "telemetry.sdk.language": "python", "cloud.region": "eu-west-1", "faas.name": "orders",
                   "faas.version": "$LATEST", "faas.instance": "2026/12/01/[$LATEST]0123abcd",
                   "aws.log.group.names": "/aws/lambda/orders", "faas.max_memory": 268435456}


def test_a_lambda_line_leaves_out_what_its_log_group_and_stream_say_and_the_collector_puts_it_back() -> None:
    # GIVEN the resource the layer builds in a Lambda function
    [line] = wire.encode([span()], LAMBDA_RESOURCE)
    resource, spans, problems = wire.decode(line)
    # THEN the line carries only what the log context cannot give
    assert resource == {"telemetry.sdk.version": "0.1.0", "cloud.region": "eu-west-1", "faas.max_memory": 268435456}
    assert len(line) < len(wire.PREFIX + json.dumps({"v": 1, "resource": LAMBDA_RESOURCE, "spans": spans},
                                                    separators=(",", ":"))) - 250
    # AND read with the log group and stream it was written to, the resource is whole again
    assert wire.full_resource(resource, "/aws/lambda/orders", "2026/12/01/[$LATEST]0123abcd") == LAMBDA_RESOURCE
    assert len(spans) == 1 and not problems


def test_what_the_log_context_does_not_say_stays_on_the_line() -> None:
    # GIVEN a custom log group (LoggingConfig.LogGroup), a service name of its own and a published version
    resource = {**LAMBDA_RESOURCE, "aws.log.group.names": "/shared/app-logs", "service.name": "shop",
                "faas.version": "7", "cloud.provider": "gcp"}
    compact = wire.compact_resource(resource)
    # THEN the function's name, the service, the version and a non-default constant are written out
    assert {k: compact[k] for k in ("faas.name", "service.name", "faas.version", "cloud.provider")} == {
        "faas.name": "orders", "service.name": "shop", "faas.version": "7", "cloud.provider": "gcp"}
    assert wire.full_resource(compact, "/shared/app-logs", "2026/12/01/[$LATEST]0123abcd") == resource


def test_a_line_with_its_whole_resource_reads_the_same_as_before() -> None:
    # GIVEN a line an earlier layer wrote: every resource key present
    line = wire.PREFIX + json.dumps({"v": 1, "resource": LAMBDA_RESOURCE, "spans": [span()]})
    resource, spans, _ = wire.decode(line)
    # THEN its own values stand, whatever the log context says
    assert wire.full_resource(resource, "/aws/lambda/other", "elsewhere") == LAMBDA_RESOURCE
    assert wire.decode(line)[1] == spans
