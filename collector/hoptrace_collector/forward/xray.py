"""Forwarding to AWS X-Ray: each span as a segment document built with aws-xray-sdk's models.

Server and consumer spans (an invocation, a service's entry) become segments; every other
span becomes an independent subsegment document (`"type": "subsegment"` with its `parent_id`
and `trace_id`), which X-Ray attaches to its parent itself, so no document nears the 64 KB
limit however large a trace is. Span attributes go to the `hoptrace` metadata namespace; an
error status sets `fault`. Documents go out with `PutTraceSegments`, 50 per call; segments
X-Ray refuses (e.g. a trace id whose time part is over 30 days old) are counted as failures.
`aws-xray-sdk` (~240 ms to import) is imported only when this forwarder is configured.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace_collector.store.model import SpanRecord

SEGMENT_KINDS = frozenset({"server", "consumer"})
PER_CALL = 50


def xray_trace_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def _fill(entity: Any, span: SpanRecord) -> Any:
    entity.start_time = span.start_ns / 1e9
    entity.put_metadata("attributes", span.attributes, "hoptrace")
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

    out = []
    for span in spans:
        trace = xray_trace_id(span.trace_id)
        if span.kind in SEGMENT_KINDS:
            segment = Segment(span.service or span.function or "unknown", entityid=span.span_id, traceid=trace,
                              parent_id=span.parent_id)
            if span.resource.get(semconv.CLOUD_PLATFORM) == "aws_lambda":
                segment.origin = "AWS::Lambda::Function"
            out.append(_fill(segment, span).serialize())
            continue
        carrier = Segment(span.service or "unknown", traceid=trace)
        namespace = "aws" if span.attributes.get(semconv.RPC_SYSTEM) == "aws-api" else (
            "remote" if span.kind in ("client", "producer") else "local")
        subsegment = Subsegment(span.name or "span", namespace, carrier)
        subsegment.id = span.span_id
        subsegment.parent_id = span.parent_id
        out.append(_fill(subsegment, span).serialize())
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
        """Send; returns the documents X-Ray accepted. Raises if any were refused (the caller counts it)."""
        docs = documents(spans)
        refused: list[dict[str, Any]] = []
        for start in range(0, len(docs), PER_CALL):
            response = self.client.put_trace_segments(TraceSegmentDocuments=docs[start:start + PER_CALL])
            refused.extend(response.get("UnprocessedTraceSegments", []))
        if refused:
            raise RuntimeError(f"X-Ray refused {len(refused)} of {len(docs)} segments, e.g. "
                               f"{refused[0].get('ErrorCode')}: {refused[0].get('Message')}")
        return len(docs)
