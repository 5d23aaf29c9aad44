"""Compressed span lines (HOPTRACE_COMPRESS_LINES): the same spans in a third of the bytes, and any
unreadable compressed body a WireError, never another exception."""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import zlib
from typing import Any

import pytest

from hoptrace import config as configs
from hoptrace import wire, wire_deflate, wrapper
from hoptrace.config import Config
from hoptrace.engine import ENGINES
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.conftest import ENV_DEFAULT, reset_otel_api, use_engine
from tests.layer.spans import decode_output, run

RESOURCE = {"service.name": "orders", "cloud.region": "us-east-1", "faas.max_memory": 134217728}


def span(number: int = 1, **attributes: Any) -> dict[str, Any]:
    return {"trace_id": "5759e988bd862e3fe1be46a994272793", "span_id": f"{number:016x}", "parent_id": None,
            "name": "POST /orders", "kind": "server", "start": 1_795_593_398_000_000_000,
            "end": 1_795_593_398_012_000_000, "status": {"code": "unset"},
            "attributes": {"faas.trigger": "http", "faas.invocation_id": f"c6af9ac6-7b61-11e6-9a41-{number:012d}",
                           **attributes}}


def body(line: str) -> str:
    return line[len(wire.PREFIX):]


def test_a_compressed_line_decodes_to_exactly_the_plain_lines_spans() -> None:
    spans = [span(n, **{"http.route": "/orders", "user": "ünïcode ☃"}) for n in range(1, 6)]
    plain = wire.encode(spans, RESOURCE)
    compressed = wire.encode(spans, RESOURCE, compress=True)
    assert [line[:12] for line in compressed] == ["HOPTRACE z1:"]
    assert wire.decode(compressed[0]) == wire.decode(plain[0])
    assert wire.plain(compressed[0]) == plain[0]
    assert len(compressed[0]) < len(plain[0]) / 2


def test_a_plain_line_is_left_as_it_is() -> None:
    line = wire.encode([span()], RESOURCE)[0]
    assert wire.plain(line) is line


def test_dictionary_1_never_changes() -> None:
    # Lines written with it are read by id for as long as they are kept: a change is a new dictionary.
    assert hashlib.sha256(wire_deflate.DICTIONARY_1).hexdigest() == (
        "77b4137a94933f0f5add4bcf1fe93e80f81938f545c120df7eb82dfa0416c5e9")
    assert wire_deflate.DICTIONARIES[1] is wire_deflate.DICTIONARY_1


def test_a_line_too_big_for_one_event_is_cut_into_parts_that_rejoin() -> None:
    noise = os.urandom(120_000).hex()  # incompressible beyond hex's own redundancy
    lines = wire.encode([span(1, blob=noise), span(2)], RESOURCE, max_bytes=64 * 1024, compress=True)
    assert len(lines) > 1 and all(len(line) <= 64 * 1024 for line in lines)
    spans, _ = decode_output("\n".join(lines))
    assert {s["span_id"] for s in spans} == {f"{1:016x}", f"{2:016x}"}
    assert next(s for s in spans if s["attributes"].get("blob"))["attributes"]["blob"] == noise


def raw_deflate(data: bytes, dictionary: bytes = wire_deflate.DICTIONARY_1) -> str:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wire_deflate.WBITS, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return binascii.b2a_base64(compressor.compress(data) + compressor.flush(), newline=False).decode()


VALID = raw_deflate(b'{"v":1,"resource":{},"spans":[]}')


@pytest.mark.parametrize(("compressed", "says"), [
    ("z9:" + VALID, "unknown dictionary"),
    ("z1:" + VALID[:-8], "cut short"),
    ("z1:" + VALID.replace("A", "*", 1) if "A" in VALID else "z1:*" + VALID, "not base64"),
    ("z1:" + VALID + "é", "not base64"),
    ("z1:" + binascii.b2a_base64(b"\xff\xff", newline=False).decode(), "does not inflate"),
    ("z1:" + raw_deflate(b"\0" * (wire_deflate.MAX_INFLATED + 10)), "inflates past"),
    ("z1:" + raw_deflate(b'{"v":1} \xff\xfe'), "invalid UTF-8"),
    ("z1:" + raw_deflate(b"{}") + raw_deflate(b"{}")[:4], "not base64"),
    ("z1:", "cut short"),
    ("z", "unknown dictionary"),
])
def test_an_unreadable_compressed_body_is_a_wire_error_saying_why(compressed: str, says: str) -> None:
    with pytest.raises(wire.WireError, match="compressed span line") as raised:
        wire.decode(wire.PREFIX + compressed)
    assert says in str(raised.value)


def test_trailing_bytes_after_the_stream_are_refused() -> None:
    blob = binascii.a2b_base64(VALID) + b"junk"
    with pytest.raises(wire.WireError, match="after its end"):
        wire.decode(wire.PREFIX + "z1:" + binascii.b2a_base64(blob, newline=False).decode())


def test_the_setting_is_read_from_the_environment() -> None:
    assert Config.from_env({"HOPTRACE_COMPRESS_LINES": "true"}).compress_lines is True
    assert Config.from_env({}).compress_lines is False


@pytest.mark.parametrize("name", ENGINES)
def test_both_engines_write_compressed_lines_when_asked(name: str) -> None:
    try:
        use_engine(name, compress_lines=True)

        def handler(event: Any, context: Any) -> dict[str, Any]:
            return {"statusCode": 200, "body": "{}"}

        event = load_event("apigateway_v2")
        result, raised, spans, text = run(wrap(handler), event, LambdaContext())
    finally:
        reset_otel_api()
        configs.default = ENV_DEFAULT
        wrapper.forget_engines()
    assert raised is None and result == {"statusCode": 200, "body": "{}"}
    lines = [line for line in text.splitlines() if wire.is_span_line(line)]
    assert lines and all(line.startswith("HOPTRACE z1:") for line in lines)
    (invocation,) = [s for s in spans if "faas.coldstart" in s["attributes"]]
    assert invocation["attributes"]["faas.trigger"] == "http"
    assert json.loads(body(wire.plain(lines[0])))["v"] == 1
