"""From finished OpenTelemetry spans to wire lines on stdout (and optionally OTLP/HTTP).

Writing to stdout before the handler returns is the whole transport: no network on the
hot path, nothing buffered when Lambda freezes the sandbox.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from hoptrace import health, output

_KIND = {SpanKind.INTERNAL: "internal", SpanKind.SERVER: "server", SpanKind.CLIENT: "client",
         SpanKind.PRODUCER: "producer", SpanKind.CONSUMER: "consumer"}
_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}


def _attributes(attributes: Any) -> dict[str, Any]:
    if not attributes:
        return {}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def to_wire(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    parent = span.parent
    status: dict[str, Any] = {"code": _STATUS[span.status.status_code]}
    if span.status.description:
        status["message"] = span.status.description
    out: dict[str, Any] = {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{parent.span_id:016x}" if parent is not None else None,
        "name": span.name,
        "kind": _KIND[span.kind],
        "start": span.start_time,
        "end": span.end_time,
        "status": status,
        "attributes": _attributes(span.attributes),
    }
    if span.events:
        out["events"] = [{"name": e.name, "time": e.timestamp, "attributes": _attributes(e.attributes)}
                         for e in span.events]
    if span.links:
        out["links"] = [{"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}",
                         "attributes": _attributes(link.attributes)} for link in span.links]
    return out


def write(spans: Sequence[ReadableSpan], resource: dict[str, Any], otlp_endpoint: str | None = None,
          otlp_timeout_s: float = 1.0, limits: output.OutputLimits = output.DEFAULT_LIMITS) -> int:
    """Print the invocation's lines (scrubbed and capped by `hoptrace.output`); returns the bytes written.

    Never raises.
    """
    try:
        wire_spans = [to_wire(s) for s in spans]
        counts = health.drain()
        lines = output.lines(wire_spans, resource, counts or None, limits)
    except Exception as error:
        health.swallow("export.encode", error)
        return 0
    try:
        text = "\n".join(lines) + "\n"
        sys.stdout.write(text)
        sys.stdout.flush()
        health.clear()
    except Exception as error:
        health.swallow("export.stdout", error)
        return 0
    if otlp_endpoint:
        post_otlp(otlp_endpoint, [(resource, wire_spans)], otlp_timeout_s)
    return len(text)


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
