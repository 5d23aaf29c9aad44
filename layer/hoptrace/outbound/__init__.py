"""Outbound propagation: every call that leaves the function carries the trace with it.

AWS SDK calls get client spans from `opentelemetry-instrumentation-botocore`; the context
itself is injected by our per-service modules (SQS, SNS, EventBridge, Lambda), because
the stock extension skips SQS, rewrites Lambda payloads and miscounts the SNS limit.
"""

from __future__ import annotations

from hoptrace.config import Config
from hoptrace.tracing import Tracing


def install(tracing: Tracing, config: Config) -> None:
    from hoptrace.outbound import aws

    aws.install(tracing)
    if config.trace_http:
        from hoptrace.outbound import http

        http.install(tracing)
