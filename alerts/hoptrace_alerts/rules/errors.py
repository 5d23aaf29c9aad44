"""error_spike: a function's share of failed invocations jumps above its own recent baseline."""

from __future__ import annotations

from hoptrace_alerts.facts import Facts
from hoptrace_alerts.finding import Finding
from hoptrace_alerts.rules.common import function_subjects, rate_spike, spike_params

NAME = "error_spike"
TITLE = "Error-rate spike"
SUBJECT = "function"
PARAMS = spike_params(min_invocations=20, factor=2.0, min_increase=0.05)
subjects = function_subjects


def evaluate(facts: Facts, function: str, p: dict, firing: bool) -> Finding:
    return rate_spike(facts, NAME, "error rate", function, p, lambda v: v.errors,
                      traces_filter={"status": "error"}, example_filter={"status": "error"})
