"""One flag: "this HTTP request is an AWS SDK call's own", so it gets no second client span."""

from __future__ import annotations

from contextvars import ContextVar

IN_AWS_CALL: ContextVar[bool] = ContextVar("hoptrace_in_aws_call", default=False)
