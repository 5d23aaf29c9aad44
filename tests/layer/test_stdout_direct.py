"""The invocation's line reaches stdout's descriptor directly only where nothing can be waiting ahead of it.

Real descriptors (files and a pipe), the real wrapper: on Lambda's `sys.stdout` (the runtime's `Unbuffered`
wrapper) and on a `python -u` stream the line is one `os.write`, skipping the stream's layers; on a buffered
stream, or one with no descriptor, it goes through the stream, so what the handler printed stays ahead of it.
Either way the bytes are the same and every line decodes.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.instructions_apps.lambda_stdout import Unbuffered as LambdaStdout
from hoptrace import export, wire
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext
from tests.layer.spans import decode_output


class Unbuffered(LambdaStdout):
    """Lambda's `sys.stdout`, counting the span lines written through it."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.span_writes = 0

    def write(self, text: str) -> None:
        self.span_writes += wire.PREFIX in text
        super().write(text)


def _handler(event: Any, context: Any) -> dict[str, Any]:
    print("before é")  # the handler's own line, without a flush
    return {"ok": event["n"]}


@pytest.fixture
def file_path() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield os.path.join(folder, "stdout")


def _invoke(stream: Any, times: int = 1) -> list[Any]:
    handler = wrap(_handler)
    saved = sys.stdout
    sys.stdout = stream
    try:
        return [handler({"n": n}, LambdaContext()) for n in range(times)]
    finally:
        sys.stdout = saved


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _assert_each_print_precedes_its_line(text: str, times: int) -> None:
    lines = text.splitlines()
    assert [line for line in lines if not line.startswith(wire.PREFIX)] == ["before é"] * times
    assert [line.startswith(wire.PREFIX) for line in lines] == [False, True] * times
    spans, _ = decode_output(text)
    assert sum("faas.coldstart" in span["attributes"] for span in spans) == times  # each invocation's span


def test_on_lambdas_stdout_the_line_skips_the_wrapper_and_keeps_its_place(file_path: str) -> None:
    # GIVEN sys.stdout as Lambda's runtime makes it, over a buffered text stream on a real file
    with open(file_path, "w", encoding="utf-8") as raw:
        stdout = Unbuffered(raw)
        # WHEN three invocations print and return
        results = _invoke(stdout, 3)
        # THEN no span line went through the wrapper's write, yet each follows its handler's print
        assert stdout.span_writes == 0
    assert results == [{"ok": 0}, {"ok": 1}, {"ok": 2}]
    _assert_each_print_precedes_its_line(_read(file_path), 3)


def test_on_a_write_through_stream_over_the_raw_file_the_line_is_written_directly(file_path: str) -> None:
    # GIVEN the stream `python -u` gives: write-through text over the unbuffered file
    with open(file_path, "wb", buffering=0) as raw_file:
        stream = io.TextIOWrapper(raw_file, encoding="utf-8", write_through=True)
        # WHEN two invocations run
        _invoke(stream, 2)
        # THEN the descriptor is the one written to, and the prints and lines alternate in order
        assert export._STDOUT[0] is stream and export._STDOUT[1][0] == raw_file.fileno()
        stream.detach()
    _assert_each_print_precedes_its_line(_read(file_path), 2)


def test_a_buffered_stream_is_written_through_so_the_handlers_pending_output_goes_first(file_path: str) -> None:
    # GIVEN a block-buffered stdout (a pipe or file without -u) holding the handler's unflushed print
    with open(file_path, "w", encoding="utf-8", buffering=1 << 16) as stream:
        _invoke(stream, 2)
        # THEN the layer went through the stream (nothing remembered to write directly)
        assert export._STDOUT[0] is stream and export._STDOUT[1] is None
    # AND the print stays ahead of the span line
    _assert_each_print_precedes_its_line(_read(file_path), 2)


def test_a_stream_without_a_descriptor_is_written_through() -> None:
    # GIVEN a test's capture (no descriptor) in an Unbuffered-shaped wrapper and bare
    for stream in (io.StringIO(), Unbuffered(io.StringIO())):  # type: ignore[arg-type]  # the wrapper's shape only
        _invoke(stream, 1)
        text = stream.getvalue() if isinstance(stream, io.StringIO) else stream.stream.getvalue()
        _assert_each_print_precedes_its_line(text, 1)


def test_swapping_stdout_between_invocations_follows_the_new_one(file_path: str) -> None:
    # GIVEN one invocation on a direct stream, then sys.stdout swapped for a capture
    with open(file_path, "w", encoding="utf-8") as raw:
        _invoke(Unbuffered(raw), 1)
    capture = io.StringIO()
    _invoke(capture, 1)
    # THEN each stream holds its own invocation's print and line
    _assert_each_print_precedes_its_line(_read(file_path), 1)
    _assert_each_print_precedes_its_line(capture.getvalue(), 1)


@pytest.mark.usefixtures("engine")
def test_a_line_larger_than_a_pipe_buffer_arrives_whole() -> None:
    # GIVEN Lambda's stdout over a pipe, drained by a reader thread, and a line far past the pipe's 64 KiB
    import threading

    read_fd, write_fd = os.pipe()
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(read_fd, 1 << 16), b"")))
    reader.start()

    def big(event: Any, context: Any) -> None:
        from opentelemetry import trace

        with trace.get_tracer("t").start_as_current_span("big") as span:
            for index in range(100):
                span.set_attribute(f"a{index}", "x" * 4000)

    with os.fdopen(write_fd, "w", encoding="utf-8") as raw:
        saved = sys.stdout
        sys.stdout = Unbuffered(raw)  # type: ignore[assignment]  # the runtime's wrapper, as on Lambda
        try:
            wrap(big)({}, LambdaContext())
        finally:
            sys.stdout = saved
    reader.join(timeout=60)
    os.close(read_fd)
    text = b"".join(chunks).decode()
    # THEN every line decodes and the big span is whole
    assert len(text) > 1 << 17
    spans, _ = decode_output(text)
    big_span = next(s for s in spans if s["name"] == "big")
    assert len(big_span["attributes"]) >= 100


RUNTIME = r"""
import sys, types
if sys.argv[1] == "lambda":  # as awslambdaric's bootstrap.run wraps the process's stdout
    from benchmarks.instructions_apps.lambda_stdout import Unbuffered
    sys.stdout = Unbuffered(sys.stdout)
from hoptrace import export
from hoptrace.wrapper import wrap
def handler(event, context):
    print("before", event["n"])
    return event["n"]
traced = wrap(handler)
context = types.SimpleNamespace(aws_request_id="r-1", function_name="f", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                get_remaining_time_in_millis=lambda: 30000)
for n in range(3):
    assert traced({"n": n}, context) == n
print("direct", export._STDOUT[1] is not None, file=sys.stderr)
"""


@pytest.mark.parametrize("mode", ["lambda", "python -u", "buffered"])
def test_a_real_process_stdout_keeps_every_print_before_its_line(mode: str) -> None:
    # GIVEN a fresh interpreter whose stdout is a real pipe: as Lambda's runtime wraps it, as `python -u` makes it,
    # or block-buffered (no -u)
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED",) and not k.startswith("HOPTRACE_")}
    flags = ["-u"] if mode != "buffered" else []
    done = subprocess.run([sys.executable, *flags, "-c", RUNTIME, mode.split()[0]], capture_output=True,
                          text=True, env=env, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    # THEN the direct write is taken exactly where nothing can be buffered ahead of the line
    assert f"direct {mode != 'buffered'}" in done.stderr
    # AND each print stays ahead of its invocation's line, every line decoding
    lines = done.stdout.splitlines()
    assert [line for line in lines if not line.startswith(wire.PREFIX)] == [f"before {n}" for n in range(3)]
    assert [line.startswith(wire.PREFIX) for line in lines] == [False, True] * 3
    spans, _ = decode_output(done.stdout)
    assert sum("faas.coldstart" in span["attributes"] for span in spans) == 3
