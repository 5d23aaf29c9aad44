"""Benchmark machinery, not part of any peer: times each warm invocation inside the worker.

The benchmark's exec wrapper puts this module in front of whatever the peer made the handler
(the user's function, hoptrace's redirect, the OpenTelemetry wrapper) when BENCH_TIMINGS names a
file. The time around that call is what the tracer adds to an invocation, free of the jitter of
the local cloud's pipes and threads; it is written after the clock stops, so it is not counted.
"""

import importlib
import os
import time

_module, _function = os.environ["BENCH_HANDLER"].rsplit(".", 1)
_inner = getattr(importlib.import_module(_module), _function)
_out = open(os.environ["BENCH_TIMINGS"], "a", buffering=1)  # noqa: SIM115  (open for the process's life)


def handler(event, context):
    started = time.perf_counter_ns()
    try:
        return _inner(event, context)
    finally:
        elapsed = time.perf_counter_ns() - started
        _out.write(f"{context.aws_request_id} {elapsed}\n")
