"""Forwarding to another OTLP backend: the batch's spans as one OTLP/HTTP JSON export request.

The JSON is built by `hoptrace.otlp.to_otlp`, the same converter the layer's optional direct
export uses, so a span looks the same whichever way it reaches a backend.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from hoptrace.otlp import to_otlp
from hoptrace_collector.ingest.records import to_wire
from hoptrace_collector.store.model import SpanRecord


def traces_url(endpoint: str) -> str:
    url = endpoint.rstrip("/")
    return url if url.endswith("/v1/traces") else url + "/v1/traces"


def export_request(spans: list[SpanRecord]) -> dict[str, Any]:
    """One ExportTraceServiceRequest, spans grouped under their resource."""
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for span in spans:
        key = json.dumps(span.resource, sort_keys=True, default=str)
        groups.setdefault(key, (span.resource, []))[1].append(to_wire(span))
    return to_otlp(groups.values())


class OtlpForwarder:
    def __init__(self, endpoint: str, timeout_s: float = 2.0, headers: dict[str, str] | None = None) -> None:
        self.url = traces_url(endpoint)
        self.timeout_s = timeout_s
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def __call__(self, spans: list[SpanRecord]) -> int:
        """Send; returns the spans sent. Raises on failure (the caller counts it)."""
        body = json.dumps(export_request(spans), default=str).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            response.read()
        return len(spans)
