"""The Powertools for AWS Lambda peer: `Tracer()` (which patches boto3 through the X-Ray SDK) and its
`capture_lambda_handler` decorator on every handler, as its documentation shows; three manual spans are
`tracer.provider.in_subsegment`. On Lambda the X-Ray SDK underneath sends subsegments to the daemon's UDP
port (here: a stand-in in the benchmark process)."""

from aws_lambda_powertools import Tracer

tracer = Tracer(service="bench")

import app  # noqa: E402  (patched before boto3 clients exist)


@tracer.capture_lambda_handler
def sqs_handler(event, context):
    return app.sqs_handler(event, context)


@tracer.capture_lambda_handler
def noop(event, context):
    return app.noop(event, context)


@tracer.capture_lambda_handler
def three_calls(event, context):
    return app.three_calls(event, context)


@tracer.capture_lambda_handler
def three_spans(event, context):
    for step in range(3):
        with tracer.provider.in_subsegment("step") as subsegment:
            subsegment.put_annotation("step", step)
    return {"statusCode": 200}
