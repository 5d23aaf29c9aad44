"""The warm invocations `benchmarks.instructions` counts under callgrind: `python harness.py noop|three`.

`ICOUNT_N` warm invocations of the case (a no-op, or three SQS SendMessage calls answered by botocore's
Stubber), each with a fresh `_X_AMZN_TRACE_ID` and request id as Lambda gives them, traced by hoptrace's
default engine; `ICOUNT_BARE=1` runs the same handler untraced. stdout goes to /dev/null, behind the wrapper
Lambda's Python runtime puts around `sys.stdout` (a text stream flushed after every write: lambda_stdout.py).
`ICOUNT_COLD=1`: before each invocation a write to every 64-byte line of a 16 MB buffer evicts the caches
(valgrind's simulated ones, `benchmarks.instructions --cold`), as a sandbox idle between requests finds them.
"""

import os
import sys
import time

os.environ.update(
    AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
    AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/bench",
    AWS_LAMBDA_LOG_STREAM_NAME="2026/12/02/[$LATEST]0123456789abcdef0123456789abcdef",
    AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")

import boto3
from botocore.stub import Stubber
from lambda_stdout import Unbuffered  # beside this script

import hoptrace.wrapper

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
REPLY = {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "MD5OfMessageBody": "f3ff6a5ad5ec1cbbd4e4e2e4c5b0e0d4"}
EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Scheduled Event",
         "source": "aws.events", "account": "123456789012", "time": "2026-11-25T08:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"], "detail": {}}
sqs = boto3.client("sqs")
stubber = Stubber(sqs)
stubber.activate()


def noop(event, context):
    return {"statusCode": 200}


def three(event, context):
    for _ in range(3):
        stubber.add_response("send_message", REPLY)
        sqs.send_message(QueueUrl=QUEUE_URL, MessageBody="bench")
    return {"statusCode": 200}


class Context:
    function_name = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def __init__(self, number):
        self.aws_request_id = f"c6af9ac6-7b61-11e6-9a41-{number:012d}"
        self._deadline_ms = time.time() * 1000 + 30000

    def get_remaining_time_in_millis(self):
        return int(self._deadline_ms - time.time() * 1000)


def main():
    handler = noop if sys.argv[1] == "noop" else three
    traced = handler if os.environ.get("ICOUNT_BARE") else hoptrace.wrapper.wrap(handler)
    cold = bytearray(16 << 20) if os.environ.get("ICOUNT_COLD") else None
    lines = bytes(len(cold) // 64) if cold is not None else b""
    with open(os.devnull, "w") as null:
        sys.stdout = Unbuffered(null)
        for number in range(int(os.environ.get("ICOUNT_N", "100"))):
            os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-6751a2b3-{number:024x};Parent={number:016x};Sampled=1"
            context = Context(number)
            if cold is not None:
                cold[::64] = lines
            traced(EVENT, context)


if __name__ == "__main__":
    main()
