"""latency_regression: a function's p95 (or p99) duration rises well above its own recent baseline.

The baseline is the same percentile over the previous windows taken together, so one slow
window in the baseline moves it little; both a factor and an absolute increase must be met,
so 3 ms -> 9 ms does not page anyone.
"""

from __future__ import annotations

from hoptrace_alerts import params
from hoptrace_alerts.facts import Facts
from hoptrace_alerts.finding import Finding, duration
from hoptrace_alerts.params import Param
from hoptrace_alerts.rules.common import MIN_BASELINE, WINDOWED, fire_level, function_subjects

NAME = "latency_regression"
TITLE = "Latency (p95/p99) regression"
SUBJECT = "function"
PARAMS = {
    **WINDOWED,
    "percentile": Param("p95", params.one_of("p50", "p95", "p99"), "which percentile of invocation duration"),
    "min_invocations": Param(20, params.positive_int, "invocations the current window needs before it is judged"),
    "min_baseline_invocations": MIN_BASELINE,
    "factor": Param(1.5, params.factor, "fires at this many times the baseline percentile"),
    "min_increase_ms": Param(100.0, params.milliseconds_or_off,
                             "... and only when it is at least this many milliseconds above the baseline"),
    "threshold_ms": Param(0.0, params.milliseconds_or_off,
                          "fixed threshold: fires at this many milliseconds whatever the baseline (0: off)"),
}
subjects = function_subjects


def evaluate(facts: Facts, function: str, p: dict, firing: bool) -> Finding:
    current_span, baseline_span = facts.windows(p["window_s"], p["baseline_windows"])
    now, before = facts.volume(current_span, function), facts.volume(baseline_span, function)
    field, minimum = f"{p['percentile']}_ms", p["min_invocations"]
    value = getattr(now, field) if now.invocations else None
    baseline = getattr(before, field) if before.invocations >= p["min_baseline_invocations"] else None
    threshold = fire_level(baseline, p["factor"], p["min_increase_ms"], p["threshold_ms"])
    enough = now.invocations >= minimum
    breached = enough and value is not None and threshold is not None and value >= threshold
    label, window = p["percentile"], duration(p["window_s"])
    shown = f"{value:.0f} ms" if value is not None else "n/a"
    summary = f"{label} {shown} ({now.invocations} invocations in the last {window})"
    if not enough:
        summary += f": too few to judge (min_invocations {minimum})"
    else:
        summary += (f" vs baseline {baseline:.0f} ms ({before.invocations} invocations)" if baseline is not None
                    else f" (no baseline: {before.invocations} invocations before)")
        if threshold is not None:
            summary += f"; fires at {threshold:.0f} ms"
    min_ms = f"{value:.0f}" if value is not None else None
    examples = facts.example_traces(function=function, since_ns=current_span[0], until_ns=current_span[1],
                                    min_duration_ms=value) if breached else ()
    return Finding(rule=NAME, subject=function, breached=breached, summary=summary, current=value, baseline=baseline,
                   threshold=threshold, unit="ms", window_s=p["window_s"], function=function,
                   counts={"invocations": now.invocations, "baseline_invocations": before.invocations},
                   traces_filter={"min_ms": min_ms} if breached and min_ms else {}, examples=examples)
