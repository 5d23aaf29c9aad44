"""Run a handler through hoptrace and read back what it wrote, as the collector would."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from typing import Any

from hoptrace import wire


def decode_output(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(spans, line payloads) from captured stdout; fails the test on any malformed line."""
    spans: list[dict[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    assembler = wire.Reassembler()
    for line in text.splitlines():
        if line.startswith(wire.PART_PREFIX):
            whole = assembler.feed(line)
            if whole is None:
                continue
            line = whole
        if not line.startswith(wire.PREFIX):
            continue
        _resource, valid, problems = wire.decode(line)
        assert not problems, problems
        payloads.append(json.loads(wire.plain(line)[len(wire.PREFIX):]))
        spans.extend(valid)
    assert not assembler.incomplete()
    return spans, payloads


def run(handler: Any, event: Any, context: Any) -> tuple[Any, BaseException | None, list[dict[str, Any]], str]:
    """(result, raised, spans, raw stdout) of one invocation."""
    out = io.StringIO()
    result, raised = None, None
    with redirect_stdout(out):
        try:
            result = handler(event, context)
        except BaseException as error:
            raised = error
    text = out.getvalue()
    spans, _ = decode_output(text)
    sys.stdout.flush()
    return result, raised, spans, text


def by_name(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    matches = [s for s in spans if s["name"] == name]
    assert len(matches) == 1, f"expected one span named {name!r}, got {[s['name'] for s in spans]}"
    return matches[0]


def invocation_span(spans: list[dict[str, Any]]) -> dict[str, Any]:
    matches = [s for s in spans if "faas.coldstart" in s["attributes"]]
    assert len(matches) == 1, [s["name"] for s in spans]
    return matches[0]
