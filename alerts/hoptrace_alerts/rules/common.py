"""Fields several rules share, and the rate-spike test that the cold-start and error rules both apply."""

from __future__ import annotations

from collections.abc import Callable

from hoptrace_alerts import params
from hoptrace_alerts.facts import Facts, Volume
from hoptrace_alerts.finding import Finding, duration, percent
from hoptrace_alerts.params import Param

ENABLED = Param(True, params.boolean, "false turns the rule off")
COOLDOWN = Param(900.0, params.seconds_or_zero,
                 "seconds after a resolution during which a new breach is the same incident (not notified again)")
WINDOW = Param(300.0, params.seconds, "length of the current window, in seconds")
BASELINE_WINDOWS = Param(6, params.positive_int, "how many windows before the current one make the baseline")

MIN_BASELINE = Param(50, params.positive_int,
                     "invocations the baseline windows need together before the rule compares with them")

COMMON = {"enabled": ENABLED, "cooldown_s": COOLDOWN}
WINDOWED = {**COMMON, "window_s": WINDOW, "baseline_windows": BASELINE_WINDOWS}
#: Fields the config's [defaults] table may set for every rule that takes them.
DEFAULTABLE = {"cooldown_s": COOLDOWN, "window_s": WINDOW, "baseline_windows": BASELINE_WINDOWS}


def function_subjects(facts: Facts, _params: dict) -> list[str]:
    return facts.functions()


def fire_level(baseline: float | None, factor: float, min_increase: float, fixed: float) -> float | None:
    """The value at which a spike rule fires: the fixed threshold (when set, > 0) or the baseline's
    `factor` times and `min_increase` above it (when the baseline is known), whichever is lower."""
    levels = [fixed] if fixed > 0 else []
    if baseline is not None:
        levels.append(max(baseline * factor, baseline + min_increase))
    return min(levels) if levels else None


def rate_spike(facts: Facts, rule: str, what: str, function: str, p: dict,
               count: Callable[[Volume], int], traces_filter: dict[str, str], example_filter: dict) -> Finding:
    """Judge a share of invocations (cold starts, errors) in the current window against the baseline windows.

    It breaches when the current window has at least `min_invocations` and either the share reaches
    the fixed `threshold`, or the baseline is known (at least `min_baseline_invocations`: a baseline
    of 5 invocations is noise, not a level) and the share is both `factor` times the baseline and
    `min_increase` above it: the factor catches a jump from a healthy level, the absolute increase
    keeps 0.2% -> 0.6% from paging anyone.
    """
    current_span, baseline_span = facts.windows(p["window_s"], p["baseline_windows"])
    now, before = facts.volume(current_span, function), facts.volume(baseline_span, function)
    minimum = p["min_invocations"]
    rate = count(now) / now.invocations if now.invocations else None
    baseline = count(before) / before.invocations if before.invocations >= p["min_baseline_invocations"] else None
    threshold = fire_level(baseline, p["factor"], p["min_increase"], p["threshold"])
    enough = now.invocations >= minimum
    breached = enough and rate is not None and threshold is not None and rate >= threshold
    window = duration(p["window_s"])
    if not enough:
        summary = (f"{what} {percent(rate)} ({count(now)} of {now.invocations} invocations in the last {window}): "
                   f"too few to judge (min_invocations {minimum})")
    else:
        summary = f"{what} {percent(rate)} ({count(now)} of {now.invocations} invocations in the last {window})"
        summary += (f" vs baseline {percent(baseline)} ({count(before)} of {before.invocations})"
                    if baseline is not None else f" (no baseline: {before.invocations} invocations before)")
        if threshold is not None:
            summary += f"; fires at {percent(threshold)}"
    examples = facts.example_traces(function=function, since_ns=current_span[0], until_ns=current_span[1],
                                    **example_filter) if breached else ()
    return Finding(rule=rule, subject=function, breached=breached, summary=summary, current=rate, baseline=baseline,
                   threshold=threshold, unit="ratio", window_s=p["window_s"], function=function,
                   counts={"invocations": now.invocations, "matching": count(now),
                           "baseline_invocations": before.invocations, "baseline_matching": count(before)},
                   traces_filter=traces_filter, examples=examples)


def spike_params(min_invocations: int, factor: float, min_increase: float) -> dict[str, Param]:
    return {
        **WINDOWED,
        "min_invocations": Param(min_invocations, params.positive_int,
                                 "invocations the current window needs before it is judged"),
        "min_baseline_invocations": MIN_BASELINE,
        "factor": Param(factor, params.factor, "fires at this many times the baseline share"),
        "min_increase": Param(min_increase, params.share,
                              "... and only when the share is at least this much above the baseline (0.05 = 5 points)"),
        "threshold": Param(0.0, params.share_or_off,
                           "fixed threshold: fires at this share whatever the baseline (0: off)"),
    }
