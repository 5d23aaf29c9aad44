"""What Lambda sends to a dead-letter queue or an on-failure destination after async retries run out."""

from __future__ import annotations

import time
from typing import Any


def dead_letter_attributes(request_id: str, error: dict[str, Any]) -> dict[str, dict[str, str]]:
    """SQS/SNS message attributes of a DLQ message; the body is the original event."""
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": str(error.get("errorMessage", ""))[:1024]},
    }


def on_failure_record(request_id: str, function_arn: str, event: Any, error: dict[str, Any],
                      attempts: int) -> dict[str, Any]:
    """The invocation record of an `OnFailure` destination."""
    now = time.time()
    timestamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return {
        "version": "1.0",
        "timestamp": timestamp,
        "requestContext": {"requestId": request_id, "functionArn": f"{function_arn}:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": attempts},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": error,
    }
