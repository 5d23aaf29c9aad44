"""The layer's warm-path cost in CPU instructions: a figure that does not move with the host or its load.

Wall-clock and CPU-time figures (benchmarks/startup.py) are what a function pays, but they swing with the
machine: a quiet and a busy run of the same code differ by more than most changes to the hot path.
valgrind's callgrind counts instructions, the same for the same code and inputs whatever else the machine
does. Each case runs twice under callgrind, with 100 and 700 warm invocations
(benchmarks/instructions_apps/harness.py); the difference over 600 is one warm invocation, start-up and
imports cancelled out. Run: `python -m benchmarks.instructions [noop|three ...]` (needs valgrind).
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
_TOTAL = re.compile(r"([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS|([\d,]+)\s+PROGRAM TOTALS")


def instructions(case: str, invocations: int, bare: bool) -> int:
    """Total instructions of one harness run of `invocations` warm invocations under callgrind."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        env = {**os.environ, "ICOUNT_N": str(invocations), "PYTHONHASHSEED": "0"}
        if bare:
            env["ICOUNT_BARE"] = "1"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                        str(HARNESS), case], env=env, check=True, capture_output=True)
        report = subprocess.run(["callgrind_annotate", str(out)], check=True, capture_output=True, text=True).stdout
    match = _TOTAL.search(report)
    if match is None:
        raise RuntimeError("callgrind_annotate printed no PROGRAM TOTALS line")
    return int((match.group(1) or match.group(2)).replace(",", ""))


def per_invocation(case: str, bare: bool = False) -> int:
    return (instructions(case, 700, bare) - instructions(case, 100, bare)) // 600


def main(argv: list[str] | None = None) -> int:
    cases = (argv if argv is not None else sys.argv[1:]) or list(CASES)
    if shutil.which("valgrind") is None:
        print("benchmarks.instructions: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    for case in cases:
        if case not in CASES:
            print(f"benchmarks.instructions: unknown case {case!r}; choose from {', '.join(CASES)}", file=sys.stderr)
            return 2
        traced, bare = per_invocation(case), per_invocation(case, bare=True)
        print(f"{case}: {traced:,} instructions per warm invocation traced, {bare:,} bare, "
              f"{traced - bare:+,} added by hoptrace", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
