"""silent_function: a function that had traffic has had no invocation at all for a while.

A broken trigger, a deleted subscription or an upstream that stopped sending shows up as
nothing — no errors to alert on. The lookback before the silent stretch must have had traffic,
so a function that is idle by design never fires; once firing, it stays firing until an
invocation arrives, even after its old traffic has aged out of the lookback.
"""

from __future__ import annotations

from hoptrace_alerts import params
from hoptrace_alerts.facts import Facts
from hoptrace_alerts.finding import Finding, duration
from hoptrace_alerts.params import Param
from hoptrace_alerts.rules.common import COMMON, function_subjects

NAME = "silent_function"
TITLE = "No invocations (silent function)"
SUBJECT = "function"
PARAMS = {
    **COMMON,
    "silent_for_s": Param(900.0, params.seconds, "seconds without any invocation that fire the rule"),
    "lookback_s": Param(3600.0, params.seconds, "the stretch before the silence that must have had traffic"),
    "min_baseline_invocations": Param(10, params.positive_int,
                                      "invocations the lookback needs, so idle-by-design functions never fire"),
}
subjects = function_subjects


def evaluate(facts: Facts, function: str, p: dict, firing: bool) -> Finding:
    silent_span, _ = facts.windows(p["silent_for_s"])
    lookback_span = (silent_span[0] - int(p["lookback_s"] * 1_000_000_000), silent_span[0])
    now = facts.volume(silent_span, function).invocations
    before = facts.volume(lookback_span, function).invocations
    minimum = p["min_baseline_invocations"]
    breached = now == 0 and (before >= minimum or firing)
    summary = (f"{now} invocations in the last {duration(p['silent_for_s'])} vs {before} in the "
               f"{duration(p['lookback_s'])} before")
    if now == 0 and before < minimum and not firing:
        summary += f" (too few before to call it silence: min_baseline_invocations {minimum})"
    return Finding(rule=NAME, subject=function, breached=breached, summary=summary, current=float(now),
                   baseline=float(before), threshold=0.0, unit="invocations", window_s=p["silent_for_s"],
                   function=function, counts={"invocations": now, "baseline_invocations": before})
