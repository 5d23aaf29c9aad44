"""Forwarding to AWS X-Ray: each span as a segment document built with aws-xray-sdk's models.

Server and consumer spans (an invocation, a service's entry) become segments; every other
span becomes an independent subsegment document (`"type": "subsegment"` with its `parent_id`
and `trace_id`), which X-Ray attaches to its parent itself, so no document nears the 64 KB
limit however large a trace is. Span attributes go to the `hoptrace` metadata namespace; an
error status sets `fault`. Documents go out with `PutTraceSegments`, 50 per call; segments
X-Ray refuses (e.g. a trace id whose time part is over 30 days old: a W3C trace id not made
X-Ray compatible) are counted as refused, the rest as sent (`forward.Refused`).

What X-Ray would refuse for the document's own shape is made to fit instead, so one odd span
costs only its own detail: a name keeps at most 200 characters of the ones X-Ray allows (Unicode
letters, numbers, spaces and `_ . : / % & # = + \\ - @`; others become `_`), and a document
over X-Ray's 64 KB has its attribute strings cut, then its attributes left out, with a
`hoptrace.truncated` mark saying so. `aws-xray-sdk` (~240 ms to import) is imported only when
this forwarder is configured.
"""

from __future__ import annotations

import re
from typing import Any

from hoptrace import semconv
from hoptrace_collector.forward import Refused
from hoptrace_collector.store.model import SpanRecord

SEGMENT_KINDS = frozenset({"server", "consumer"})
PER_CALL = 50
MAX_NAME_CHARS = 200
MAX_DOCUMENT_BYTES = 64_000  # X-Ray's limit is 64 KB per segment document
CUT_CHARS = 256  # an attribute string's length in a document that had to shrink
_NOT_IN_NAMES = re.compile(r"[^\w .:/%&#=+\\@-]")  # \w: Unicode letters and numbers (and `_`)


def xray_name(text: str, fallback: str) -> str:
    """`text` as X-Ray takes a segment's name."""
    return _NOT_IN_NAMES.sub("_", text[:MAX_NAME_CHARS]) or fallback


def xray_trace_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def _fill(entity: Any, span: SpanRecord, attributes: dict[str, Any]) -> Any:
    entity.start_time = span.start_ns / 1e9
    entity.put_metadata("attributes", attributes, "hoptrace")
    entity.put_metadata("span", {"kind": span.kind, "name": span.name, "source": span.source}, "hoptrace")
    if span.status == "error":
        entity.add_fault_flag()
        entity.put_metadata("status_message", span.status_message, "hoptrace")
    status = span.attributes.get(semconv.HTTP_STATUS)
    if isinstance(status, int):
        entity.put_http_meta("status", status)
    if span.request_id:
        entity.aws = {"request_id": span.request_id}
    entity.close(span.end_ns / 1e9)
    return entity


def documents(spans: list[SpanRecord]) -> list[str]:
    """One serialized segment or subsegment document per span."""
    from aws_xray_sdk.core.models.segment import Segment
    from aws_xray_sdk.core.models.subsegment import Subsegment

    def document(span: SpanRecord, attributes: dict[str, Any]) -> str:
        trace = xray_trace_id(span.trace_id)
        if span.kind in SEGMENT_KINDS:
            segment = Segment(xray_name(span.service or span.function, "unknown"), entityid=span.span_id,
                              traceid=trace, parent_id=span.parent_id)
            if span.resource.get(semconv.CLOUD_PLATFORM) == "aws_lambda":
                segment.origin = "AWS::Lambda::Function"
            return str(_fill(segment, span, attributes).serialize())
        carrier = Segment(xray_name(span.service, "unknown"), traceid=trace)
        namespace = "aws" if span.attributes.get(semconv.RPC_SYSTEM) == "aws-api" else (
            "remote" if span.kind in ("client", "producer") else "local")
        subsegment = Subsegment(xray_name(span.name, "span"), namespace, carrier)
        subsegment.id = span.span_id
        subsegment.parent_id = span.parent_id
        return str(_fill(subsegment, span, attributes).serialize())

    out = []
    for span in spans:
        text = document(span, span.attributes)
        if _too_big(text):
            text = document(span, _cut(span.attributes))
            if _too_big(text):
                text = document(span, {TRUNCATED: True, "attributes_left_out": len(span.attributes)})
        out.append(text)
    return out


TRUNCATED = "hoptrace.truncated"


def _too_big(text: str) -> bool:
    return len(text) > MAX_DOCUMENT_BYTES or (not text.isascii() and len(text.encode()) > MAX_DOCUMENT_BYTES)


def _cut(attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes with every string (and list) shortened: what a document over X-Ray's limit keeps first."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, list):
            value = [item[:CUT_CHARS] if isinstance(item, str) else item for item in value[:16]]
        elif isinstance(value, str):
            value = value[:CUT_CHARS]
        out[key] = value
    out[TRUNCATED] = True
    return out


class XrayForwarder:
    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("xray")
        return self._client

    def __call__(self, spans: list[SpanRecord]) -> int:
        """Send; returns the documents X-Ray accepted, or raises `Refused` saying how many it accepted and refused."""
        docs = documents(spans)
        refused: list[dict[str, Any]] = []
        for start in range(0, len(docs), PER_CALL):
            response = self.client.put_trace_segments(TraceSegmentDocuments=docs[start:start + PER_CALL])
            refused.extend(response.get("UnprocessedTraceSegments", []))
        if refused:
            first = refused[0]
            raise Refused(len(docs) - len(refused), len(refused),
                          f"segment {first.get('Id')}: {first.get('ErrorCode')}: {first.get('Message')}")
        return len(docs)
