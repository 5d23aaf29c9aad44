"""`python -m benchmarks.instructions [--cold]`: its harness runs real warm invocations (boto3, the layer, the
Stubber) in both modes; with valgrind installed, the counts come out as the module documents them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from benchmarks import instructions


@pytest.mark.parametrize("case", instructions.CASES)
@pytest.mark.parametrize("cold", [False, True])
def test_the_harness_runs_warm_invocations_traced_and_bare(case: str, cold: bool) -> None:
    # GIVEN the harness, caches evicted before each invocation or not
    for bare in (False, True):
        env = {**os.environ, "ICOUNT_N": "3", **({"ICOUNT_COLD": "1"} if cold else {}),
               **({"ICOUNT_BARE": "1"} if bare else {})}
        # WHEN it runs three warm invocations THEN every one completes (a failing handler or hook would raise)
        done = subprocess.run([sys.executable, str(instructions.HARNESS), case], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_cold_caches_add_misses_and_cycles_beyond_the_instructions() -> None:
    # GIVEN valgrind WHEN a few cold invocations of each run are counted
    low, high = instructions.events("noop", 2, False, cold=True), instructions.events("noop", 6, False, cold=True)
    # THEN the simulated caches' misses are reported and grow with the invocations, as the instructions do
    for event in ("Ir", "I1mr", "D1mr", "ILmr", "DLmr"):
        assert high[event] > low[event] > 0, event
