"""Benchmark machinery, not part of any peer: times each warm invocation inside the worker.

The benchmark's exec wrapper puts this module in front of whatever the peer made the handler
(the user's function, hoptrace's redirect, the OpenTelemetry wrapper) when BENCH_TIMINGS names a
file. The time around that call is what the tracer adds to an invocation, free of the jitter of
the local cloud's pipes and threads; it is written after the clock stops, so it is not counted.
Beside the wall-clock time, the process's CPU time over the same call: a log line written to stdout
wakes the local cloud's log reader (and the collector behind it) on this same 2-core machine, which
on Lambda runs elsewhere; CPU time is the tracer's own work, whatever else the machine does.
"""

import importlib
import os
import time

_module, _function = os.environ["BENCH_HANDLER"].rsplit(".", 1)
_inner = getattr(importlib.import_module(_module), _function)
_out = open(os.environ["BENCH_TIMINGS"], "a", buffering=1)  # noqa: SIM115  (open for the process's life)


def handler(event, context):
    cpu_started = time.process_time_ns()  # every thread of the process: an exporter thread's work counts too
    started = time.perf_counter_ns()
    try:
        return _inner(event, context)
    finally:
        elapsed = time.perf_counter_ns() - started
        cpu = time.process_time_ns() - cpu_started
        _out.write(f"{context.aws_request_id} {elapsed} {cpu}\n")
