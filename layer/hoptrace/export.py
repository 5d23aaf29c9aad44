"""From an invocation's wire spans to lines on stdout (and optionally OTLP/HTTP).

Writing to stdout before the handler returns is the whole transport: no network on the
hot path, nothing buffered when Lambda freezes the sandbox.

Where nothing can wait in `sys.stdout`'s buffers, the line goes to its file descriptor in one
`os.write`: Lambda's Python runtime replaces `sys.stdout` with its `Unbuffered` wrapper, which
flushes the text stream after every write, and a runtime started with `python -u` (the local
cloud's) has a write-through text stream over the raw file. Going through the stream there costs two
Python calls of the wrapper and two flushes through the text and buffer layers: about 10 µs of a
warm invocation whose code is out of the CPU's caches (docs/cost.md). Any other `sys.stdout` (a
buffered pipe that may hold what the handler printed, a test's capture) is written as before, so
the line never jumps ahead of the handler's own output.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

from hoptrace import health, output

# the `sys.stdout` last seen, and (descriptor, encoding, errors) to write it directly, or None: see `_direct`
_STDOUT: list[Any] = [None, None]


def write(wire_spans: list[dict[str, Any]], resource: dict[str, Any], otlp_endpoint: str | None = None,
          otlp_timeout_s: float = 1.0, limits: output.OutputLimits = output.DEFAULT_LIMITS) -> int:
    """Print the invocation's lines (wire dicts from the engine, scrubbed and capped by `hoptrace.output`);
    returns the bytes written. Never raises.
    """
    counted = health.COUNTS
    drained = dict(counted) if counted else None
    try:
        lines = output.lines(wire_spans, resource, drained, limits)
    except Exception as error:
        health.swallow("export.encode", error)
        return 0
    try:
        text = "\n".join(lines) + "\n"
        out = sys.stdout
        direct = _STDOUT[1] if _STDOUT[0] is out else _direct(out)
        if direct is not None:
            data = text.encode(direct[1], direct[2])
            written = os.write(direct[0], data)
            if written < len(data):  # a pipe's write interrupted part way
                _write_rest(direct[0], data, written)
        else:
            out.write(text)
            out.flush()
        if drained:  # they rode on this line
            counted.clear()
    except Exception as error:
        health.swallow("export.stdout", error)
        return 0
    if otlp_endpoint:
        post_otlp(otlp_endpoint, [(resource, wire_spans)], otlp_timeout_s)
    return len(text)


def _direct(out: Any) -> tuple[int, str, str] | None:
    """How to write to `out`'s descriptor, when nothing written to `out` can still wait in its buffers; else None.

    Remembered per stream (`_STDOUT`): a test or the handler may swap `sys.stdout` at any time."""
    stream = out
    if type(out).__name__ == "Unbuffered" and type(getattr(out, "stream", None)) is io.TextIOWrapper:
        stream = out.stream  # Lambda's runtime (awslambdaric): flushed after every write
    elif not (type(out) is io.TextIOWrapper and out.write_through and type(out.buffer) is io.FileIO):
        stream = None  # buffered (or not a file): its pending text goes first, through it
    direct = None
    if stream is not None:
        try:
            direct = (stream.fileno(), stream.encoding, stream.errors)
        except (OSError, ValueError, AttributeError):  # closed, or a stream with no descriptor
            direct = None
    _STDOUT[:] = [out, direct]
    return direct


def _write_rest(fd: int, data: bytes, written: int) -> None:
    view = memoryview(data)
    while written < len(data):
        written += os.write(fd, view[written:])


def post_otlp(endpoint: str, batches: list[tuple[dict[str, Any], list[dict[str, Any]]]], timeout_s: float) -> None:
    """Optional second destination for teams with an OTLP backend; costs a round trip."""
    import urllib.request  # only paid for by those who configure an endpoint

    from hoptrace.otlp import to_otlp

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    body = json.dumps(to_otlp(batches)).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except Exception as error:
        health.swallow("export.otlp", error)
