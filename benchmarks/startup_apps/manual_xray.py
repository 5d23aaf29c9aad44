"""Three spans of the function's own with the X-Ray SDK: subsegments of the invocation's segment."""

from aws_xray_sdk.core import patch_all, xray_recorder

patch_all()


def three_spans(event, context):
    for step in range(3):
        with xray_recorder.in_subsegment("step") as subsegment:
            subsegment.put_annotation("step", step)
    return {"statusCode": 200}
