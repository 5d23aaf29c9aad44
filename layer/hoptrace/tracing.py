"""The OpenTelemetry pieces, built once at import: provider, sampler, ids, span buffer.

Everything here is computed before the first invocation so the wrapper only starts and
ends spans. `Resource(...)` is built directly: `Resource.create()` scans entry points,
which is the slow part of the stock OpenTelemetry Lambda layer's start-up.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.propagation import Carried, new_span_id, new_trace_id

VERSION = "0.1.0"


class XRayIdGenerator(IdGenerator):
    """Epoch-prefixed trace ids (valid X-Ray ids); a carried X-Ray Root can be adopted."""

    def __init__(self) -> None:
        self._adopt = threading.local()

    def adopt_next(self, trace_id: int | None) -> None:
        self._adopt.trace_id = trace_id

    def generate_span_id(self) -> int:
        return new_span_id()

    def generate_trace_id(self) -> int:
        adopted = getattr(self._adopt, "trace_id", None)
        if adopted is not None:
            self._adopt.trace_id = None
            return adopted
        return new_trace_id()


class InvocationBuffer(SpanProcessor):
    """Keeps finished spans in memory until the wrapper writes them at the end of the invocation."""

    def __init__(self) -> None:
        self._spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self._spans.append(span)

    def drain(self) -> Sequence[ReadableSpan]:
        spans, self._spans = self._spans, []
        return spans

    def shutdown(self) -> None:
        self._spans = []

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def resource_attributes(config: Config, env: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ) if env is None else env
    attributes: dict[str, Any] = {
        semconv.SERVICE_NAME: config.service_name,
        semconv.CLOUD_PROVIDER: "aws",
        semconv.CLOUD_PLATFORM: "aws_lambda",
        semconv.TELEMETRY_SDK_NAME: "hoptrace",
        semconv.TELEMETRY_SDK_VERSION: VERSION,
        semconv.TELEMETRY_SDK_LANGUAGE: "python",
    }
    for key, attribute in (("AWS_REGION", semconv.CLOUD_REGION), ("AWS_LAMBDA_FUNCTION_NAME", semconv.FAAS_NAME),
                           ("AWS_LAMBDA_FUNCTION_VERSION", semconv.FAAS_VERSION),
                           ("AWS_LAMBDA_LOG_STREAM_NAME", semconv.FAAS_INSTANCE),
                           ("AWS_LAMBDA_LOG_GROUP_NAME", "aws.log.group.names")):
        if env.get(key):
            attributes[attribute] = env[key]
    try:
        attributes[semconv.FAAS_MAX_MEMORY] = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")) * 1024 * 1024
    except ValueError:
        pass
    return attributes


@dataclass
class Tracing:
    provider: TracerProvider
    tracer: trace.Tracer
    buffer: InvocationBuffer
    ids: XRayIdGenerator
    resource: dict[str, Any]
    sample_bound: int

    def remote_parent(self, carried: Carried) -> Context:
        """An OpenTelemetry context whose parent is the carried one (or a root adopting its trace)."""
        if carried.span_id is None:
            self.ids.adopt_next(carried.trace_id)
            return Context()
        return trace.set_span_in_context(NonRecordingSpan(self.remote_parent_span_context(carried)), Context())

    def remote_parent_span_context(self, carried: Carried) -> SpanContext:
        """The carried context with our sampling rule applied.

        A W3C flag is honoured; an X-Ray `Sampled=0` is not a decision (Lambda sets it when
        X-Ray is off), so the trace-id ratio decides, the same way on every hop.
        """
        sampled = carried.sampled
        if sampled is None:
            sampled = (carried.trace_id & 0xFFFFFFFFFFFFFFFF) < self.sample_bound
        return SpanContext(carried.trace_id, carried.span_id or 0, is_remote=True,
                           trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else 0),
                           trace_state=_trace_state(carried.tracestate))


def _trace_state(header: str) -> TraceState | None:
    if not header:
        return None
    try:
        return TraceState.from_header([header])
    except Exception:
        return None


def build(config: Config) -> Tracing:
    ids = XRayIdGenerator()
    buffer = InvocationBuffer()
    attributes = resource_attributes(config)
    limits = SpanLimits(max_attribute_length=config.max_attribute_length, max_attributes=128,
                        max_events=64, max_links=128, max_event_attributes=32, max_span_attributes=128)
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(config.sample_rate)),
        resource=Resource(attributes),
        id_generator=ids,
        span_limits=limits,
    )
    provider.add_span_processor(buffer)
    tracer = provider.get_tracer("hoptrace", VERSION)
    bound = round(config.sample_rate * (2**64))
    return Tracing(provider, tracer, buffer, ids, attributes, bound)
