"""platform_deaths: invocations the Lambda platform killed — timeouts, out-of-memory, runtime crashes.

No tracer inside the function can report these; the collector reads them from the platform's
own log lines, so this rule sees what every other rule misses. Any death is worth a look, so
the default is a fixed threshold of one, not a baseline.
"""

from __future__ import annotations

from collections import Counter

from hoptrace_alerts import params
from hoptrace_alerts.facts import DEATHS, Facts
from hoptrace_alerts.finding import Finding, duration
from hoptrace_alerts.params import Param
from hoptrace_alerts.rules.common import COMMON, WINDOW, function_subjects

NAME = "platform_deaths"
TITLE = "Timeouts / out-of-memory deaths"
SUBJECT = "function"
PARAMS = {
    **COMMON,
    "window_s": WINDOW,
    "outcomes": Param(["timeout", "oom"], params.some_of(*DEATHS),
                      'which deaths count: "timeout", "oom", "crash" (the runtime exited)'),
    "min_count": Param(1, params.positive_int, "deaths in the window that fire the rule"),
}
subjects = function_subjects
_WORDS = {"timeout": "timed out", "oom": "out of memory", "crash": "crashed"}


def evaluate(facts: Facts, function: str, p: dict, firing: bool) -> Finding:
    current_span, _ = facts.windows(p["window_s"])
    died = [r for r in facts.deaths(current_span, function) if r.outcome in p["outcomes"]]
    by_outcome = Counter(r.outcome for r in died)
    breached = len(died) >= p["min_count"]
    detail = ", ".join(f"{n} {_WORDS[o]}" for o, n in sorted(by_outcome.items()))
    summary = (f"{len(died)} invocation{'s' if len(died) != 1 else ''} died in the last "
               f"{duration(p['window_s'])}" + (f" ({detail})" if detail else "") + f"; fires at {p['min_count']}")
    examples = tuple(dict.fromkeys(r.trace_id for r in died if r.trace_id))[:3]
    return Finding(rule=NAME, subject=function, breached=breached, summary=summary, current=float(len(died)),
                   baseline=None, threshold=float(p["min_count"]), unit="deaths", window_s=p["window_s"],
                   function=function, counts={o: n for o, n in by_outcome.items()}, traces_filter={"status": "error"},
                   examples=examples if breached else ())
