"""A minimal Lambda-runtime stand-in: set up one peer, load the handler, invoke it.

Prints `COLD <ns>` when the first invocation has returned (measured by the parent from
process start), then `WARM <ns>` per warm invocation, timed in-process around the call.
"""

import json
import os
import sys
import time
import types


def context(n):
    return types.SimpleNamespace(aws_request_id=f"req-{n}", function_name="bench", client_context=None,
                                 invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
                                 function_version="$LATEST", memory_limit_in_mb=128,
                                 get_remaining_time_in_millis=lambda: 3000)


def load(peer, function):
    if peer == "bare":
        import app

        return getattr(app, function), None
    if peer == "hoptrace":
        os.environ["HOPTRACE_HANDLER"] = f"app.{function}"
        from hoptrace.handler import handler

        return handler, None
    if peer == "stock-otel":
        return _stock_otel(function)
    if peer == "xray-sdk":
        from aws_xray_sdk.core import patch_all, xray_recorder

        patch_all()
        import app

        return getattr(app, function), xray_recorder
    raise SystemExit(f"unknown peer {peer}")


def _stock_otel(function):
    """Set up as the opentelemetry-lambda Python layer does, minus entry-point discovery."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    BotocoreInstrumentor().instrument()
    os.environ["_HANDLER"] = f"app.{function}"
    AwsLambdaInstrumentor().instrument()  # wraps app.<function> and force-flushes after each call
    import app

    return getattr(app, function), None


def main():
    peer, function, warm = sys.argv[1], sys.argv[2], int(sys.argv[3])
    handler, recorder = load(peer, function)
    event = json.loads(os.environ.get("BENCH_EVENT", "{}"))
    for n in range(warm + 1):
        if recorder is not None:  # the X-Ray SDK needs a segment; on Lambda the facade does this
            recorder.begin_segment("bench")
        started = time.perf_counter_ns()
        handler(event, context(n))
        elapsed = time.perf_counter_ns() - started
        if recorder is not None:
            recorder.end_segment()
        print(("COLD " if n == 0 else "WARM ") + str(elapsed), file=sys.stderr, flush=True)


main()
