"""Three spans of the function's own through the OpenTelemetry API: hoptrace (both engines) and stock OpenTelemetry.

OpenTelemetry's API is hoptrace's API for spans of your own: with the default engine, importing it is
what makes hoptrace register its bridge (the function pays for opentelemetry-api only when it uses it).
"""

from opentelemetry import trace

tracer = trace.get_tracer("bench")


def three_spans(event, context):
    for step in range(3):
        with tracer.start_as_current_span("step") as span:
            span.set_attribute("step", step)
    return {"statusCode": 200}
