"""The layer's warm-path cost in CPU instructions: a figure that does not move with the host or its load.

Wall-clock and CPU-time figures (benchmarks/startup.py) are what a function pays, but they swing with the
machine: a quiet and a busy run of the same code differ by more than most changes to the hot path.
valgrind's callgrind counts instructions, the same for the same code and inputs whatever else the machine
does. Each case runs twice under callgrind, with 100 and 700 warm invocations
(benchmarks/instructions_apps/harness.py); the difference over 600 is one warm invocation, start-up and
imports cancelled out. Run: `python -m benchmarks.instructions [--cold] [noop|three ...]` (needs valgrind).

`--cold` also simulates the caches (32 KB L1 instruction and data caches, a 4 MB last level) and evicts them
before each invocation (the harness's `ICOUNT_COLD`), as a sandbox idle between requests finds them: a warm
invocation on Lambda, or in the local cloud's worker, runs with its code and data out of cache, and there a
cache line the layer touches costs more than its instructions. It reports the misses the layer adds and
KCachegrind's cycle estimate (instructions + 10 per first-level miss + 100 per last-level miss), still
independent of the host and its load; each run is 40 and 240 invocations (the difference over 200).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HARNESS = Path(__file__).parent / "instructions_apps" / "harness.py"
CASES = ("noop", "three")
_CACHES = ["--cache-sim=yes", "--I1=32768,8,64", "--D1=32768,8,64", "--LL=4194304,16,64"]
_FIRST_LEVEL = ("I1mr", "D1mr", "D1mw")
_LAST_LEVEL = ("ILmr", "DLmr", "DLmw")


def events(case: str, invocations: int, bare: bool, cold: bool = False) -> dict[str, int]:
    """callgrind's totals per event of one harness run of `invocations` warm invocations: instructions (`Ir`),
    and with `cold` the simulated caches' misses, the caches evicted before each invocation."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        env = {**os.environ, "ICOUNT_N": str(invocations), "PYTHONHASHSEED": "0"}
        if bare:
            env["ICOUNT_BARE"] = "1"
        if cold:
            env["ICOUNT_COLD"] = "1"
        subprocess.run(["valgrind", "--tool=callgrind", *(_CACHES if cold else ()), f"--callgrind-out-file={out}",
                        sys.executable, str(HARNESS), case], env=env, check=True, capture_output=True)
        text = out.read_text()
    names = re.search(r"^events: (.*)$", text, re.M)
    totals = re.search(r"^(?:totals|summary): (.*)$", text, re.M)
    if names is None or totals is None:
        raise RuntimeError("callgrind wrote no events or totals line")
    return dict(zip(names.group(1).split(), map(int, totals.group(1).split()), strict=False))


def per_invocation(case: str, bare: bool = False) -> int:
    return (events(case, 700, bare)["Ir"] - events(case, 100, bare)["Ir"]) // 600


def cold_added(case: str) -> dict[str, float]:
    """Per warm invocation with cold caches, traced minus bare: instructions, misses, estimated cycles."""
    per: dict[bool, dict[str, float]] = {}
    for bare in (False, True):
        low, high = events(case, 40, bare, cold=True), events(case, 240, bare, cold=True)
        per[bare] = {event: (high[event] - low[event]) / 200 for event in low}
    added = {event: per[False][event] - per[True][event] for event in per[False]}
    first = sum(added.get(event, 0) for event in _FIRST_LEVEL)
    last = sum(added.get(event, 0) for event in _LAST_LEVEL)
    return {"instructions": added["Ir"], "first_level_misses": first, "last_level_misses": last,
            "cycles": added["Ir"] + 10 * first + 100 * last}


def main(argv: list[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    cold = "--cold" in args
    cases = [arg for arg in args if arg != "--cold"] or list(CASES)
    if shutil.which("valgrind") is None:
        print("benchmarks.instructions: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    for case in cases:
        if case not in CASES:
            print(f"benchmarks.instructions: unknown case {case!r}; choose from {', '.join(CASES)}", file=sys.stderr)
            return 2
        if cold:
            figures = cold_added(case)
            print(f"{case}, cold caches: {figures['instructions']:+,.0f} instructions, "
                  f"{figures['first_level_misses']:+,.0f} first-level and {figures['last_level_misses']:+,.0f} "
                  f"last-level cache misses, {figures['cycles']:+,.0f} estimated cycles added by hoptrace "
                  "per warm invocation", flush=True)
            continue
        traced, bare = per_invocation(case), per_invocation(case, bare=True)
        print(f"{case}: {traced:,} instructions per warm invocation traced, {bare:,} bare, "
              f"{traced - bare:+,} added by hoptrace", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
