"""cold_start_spike: a function's share of cold starts jumps above its own recent baseline.

A burst of concurrency, a deploy or a config change that keeps recycling sandboxes all show
here first; the users see it as a slow first request.
"""

from __future__ import annotations

from hoptrace_alerts.facts import Facts
from hoptrace_alerts.finding import Finding
from hoptrace_alerts.rules.common import function_subjects, rate_spike, spike_params

NAME = "cold_start_spike"
TITLE = "Cold-start rate spike"
SUBJECT = "function"
PARAMS = spike_params(min_invocations=20, factor=3.0, min_increase=0.10)
subjects = function_subjects


def evaluate(facts: Facts, function: str, p: dict, firing: bool) -> Finding:
    return rate_spike(facts, NAME, "cold-start rate", function, p, lambda v: v.cold_starts,
                      traces_filter={"cold": "yes"}, example_filter={"cold_start": True})
