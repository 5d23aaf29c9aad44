"""dlq_arrivals: messages arrive in a dead-letter queue (or arrive faster than they used to).

Each message there is a request that will not complete by itself. By default any arrival
fires; `factor` > 0 turns it into a growth rule (arrivals per window against the baseline
windows' average) for queues that always receive a trickle. The subject is the queue; the
finding names the function that failed to process the newest message when its trace says so.
"""

from __future__ import annotations

from hoptrace_alerts import params
from hoptrace_alerts.facts import Facts
from hoptrace_alerts.finding import Finding, duration
from hoptrace_alerts.params import Param
from hoptrace_alerts.rules.common import WINDOWED

NAME = "dlq_arrivals"
TITLE = "Dead-letter queue arrivals / growth"
SUBJECT = "queue"
PARAMS = {
    **WINDOWED,
    "min_messages": Param(1, params.positive_int, "arrivals in the window that fire the rule"),
    "factor": Param(0.0, params.factor_or_off,
                    "growth: fire only at this many times the baseline windows' average arrivals (0: off)"),
}


def subjects(facts: Facts, p: dict) -> list[str]:
    current_span, baseline_span = facts.windows(p["window_s"], p["baseline_windows"])
    return facts.queues((baseline_span[0], current_span[1]))


def evaluate(facts: Facts, queue: str, p: dict, firing: bool) -> Finding:
    current_span, baseline_span = facts.windows(p["window_s"], p["baseline_windows"])
    arrived = facts.dlq(current_span, queue)
    average = len(facts.dlq(baseline_span, queue)) / p["baseline_windows"]
    threshold = float(p["min_messages"])
    if p["factor"] > 0:
        threshold = max(threshold, average * p["factor"])
    breached = len(arrived) >= threshold
    source = next((m.source_queue for m in arrived if m.source_queue), None)
    summary = (f"{len(arrived)} message{'s' if len(arrived) != 1 else ''} arrived in {queue} in the last "
               f"{duration(p['window_s'])}" + (f" (from {source})" if source else "")
               + f" vs {average:.1f} per window before; fires at {threshold:g}")
    error = next((m.error for m in arrived if m.error), "")
    if error:
        summary += f"; last error: {error[:160]}"
    examples = tuple(dict.fromkeys(m.trace_id for m in arrived if m.trace_id))[:3] if breached else ()
    function = facts.failing_function(examples[0]) if examples else None
    return Finding(rule=NAME, subject=queue, breached=breached, summary=summary, current=float(len(arrived)),
                   baseline=average, threshold=threshold, unit="messages", window_s=p["window_s"], function=function,
                   counts={"arrivals": len(arrived)}, examples=examples)
