"""Honest configuration: what is passed in code is what the tracing uses, over the environment's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import hoptrace
from hoptrace.config import Config
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def server() -> Iterator[str]:
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("traceparent"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def test_explicit_sample_rate_zero_writes_no_spans() -> None:
    # GIVEN the environment's tracing samples everything, and a handler wrapped with sample_rate 0
    traced = wrap(lambda event, context: "ok", Config(sample_rate=0.0))
    # WHEN it runs THEN nothing is sampled, while a handler without a config is still traced
    result, raised, spans, _ = run(traced, load_event("direct_invoke"), LambdaContext())
    assert result == "ok" and raised is None and spans == []
    assert run(wrap(lambda event, context: "ok"), load_event("direct_invoke"), LambdaContext())[2]


def test_explicit_max_attribute_length_cuts_the_spans_attributes() -> None:
    from opentelemetry import trace

    def big(event: Any, context: Any) -> Any:
        trace.get_current_span().set_attribute("big", "y" * 10_000)
        return 1

    _, _, spans, _ = run(hoptrace.trace(max_attribute_length=100)(big), {}, LambdaContext())
    assert len(invocation_span(spans)["attributes"]["big"]) == 100


def test_explicit_trace_http_false_leaves_outgoing_calls_untraced(server: str) -> None:
    def call(event: Any, context: Any) -> Any:
        with urllib.request.urlopen(server + "/x") as response:
            return response.status

    # GIVEN the environment traces HTTP, and one handler says trace_http=False
    quiet = wrap(call, trace_http=False)
    loud = wrap(call)
    # WHEN each calls out THEN only the default one makes a client span; the handlers keep their engines apart
    _, _, quiet_spans, _ = run(quiet, {}, LambdaContext())
    _, _, loud_spans, _ = run(loud, {}, LambdaContext())
    assert not [s for s in quiet_spans if s["kind"] == "client"] and quiet_spans
    assert [s for s in loud_spans if s["kind"] == "client"]
    _, _, again, _ = run(quiet, {}, LambdaContext())
    assert not [s for s in again if s["kind"] == "client"]


def test_decorator_service_name_reaches_the_resource() -> None:
    @hoptrace.trace(service_name="billing")
    def handler(event: Any, context: Any) -> Any:
        return "b"

    _, _, _, text = run(handler, {}, LambdaContext())
    assert '"service.name":"billing"' in text


def test_explicit_arguments_beat_the_environment_which_beats_defaults() -> None:
    env = {"HOPTRACE_SAMPLE_RATE": "0.25", "HOPTRACE_TRACE_HTTP": "false", "AWS_LAMBDA_FUNCTION_NAME": "orders"}
    config = Config.from_env(env, sample_rate=0.5)
    assert config.sample_rate == 0.5  # explicit
    assert config.trace_http is False and config.service_name == "orders"  # environment
    assert config.max_attribute_length == Config().max_attribute_length  # default


def test_importing_the_config_reads_no_environment() -> None:
    # GIVEN the variable is set only after the import THEN the default configuration still sees it
    code = ("import os, hoptrace.config as c; os.environ['HOPTRACE_SAMPLE_RATE'] = '0.5'; "
            "print(c.default().sample_rate, c.default() is c.default())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOPTRACE_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["0.5", "True"]
