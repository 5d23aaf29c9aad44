"""The X-Ray SDK peer: the same handlers, with `patch_all()` first, as its documentation asks of user code.

On Lambda the SDK builds a facade segment from `_X_AMZN_TRACE_ID` for each invocation and sends
the subsegments to the daemon's UDP port (here: a stand-in in the benchmark process).
"""

from aws_xray_sdk.core import patch_all

patch_all()

from app import noop, sqs_handler, three_calls  # noqa: E402  (patched before boto3 clients exist)
from manual_xray import three_spans  # noqa: E402

__all__ = ["noop", "sqs_handler", "three_calls", "three_spans"]
