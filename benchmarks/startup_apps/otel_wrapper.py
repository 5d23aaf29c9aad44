"""Stock OpenTelemetry as the opentelemetry-lambda Python layer sets it up (`python/src/otel/otel_sdk/otel_wrapper.py`).

Its exec wrapper (`otel-instrument`, written by benchmarks/peers.py) moves the function's handler to
ORIG_HANDLER and points `_HANDLER` here. At import, this module does what the upstream wrapper does
for traces: a TracerProvider with a BatchSpanProcessor and the OTLP/HTTP exporter (to a local
receiver standing in for the collector extension), the botocore instrumentation, then
AwsLambdaInstrumentor, which wraps the original handler and force-flushes the provider at the end
of every invocation. Metrics are off (OTEL_METRICS_EXPORTER=none): hoptrace records no metrics, so
the comparison covers traces only, which makes this peer's figures a lower bound. Upstream imports the
metrics SDK either way; with metrics off it sets no MeterProvider, and AwsLambdaInstrumentor then logs
a warning at every invocation ("MeterProvider was missing `force_flush`"). A MeterProvider without
readers spares this peer that line: its flush does nothing.
"""

import importlib
import logging
import os

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

logging.basicConfig(level=os.environ.get("OTEL_LOG_LEVEL", "INFO").upper())

if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
    provider = TracerProvider(resource=Resource.create())
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp") != "none":
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
if not hasattr(metrics.get_meter_provider(), "force_flush"):  # the global default (a proxy) has none
    metrics.set_meter_provider(MeterProvider(resource=Resource.create()))

BotocoreInstrumentor().instrument()
AwsLambdaInstrumentor().instrument()

_module, _function = os.environ["ORIG_HANDLER"].rsplit(".", 1)
lambda_handler = getattr(importlib.import_module(_module.replace("/", ".")), _function)
