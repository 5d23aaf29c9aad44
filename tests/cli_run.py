"""Runs the real `hoptrace` command in a subprocess and checks what a user sees when it refuses: one line on
stderr naming the problem and the fix, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def hoptrace(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
             cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """`hoptrace ARGS` as a user runs it (same interpreter, so the worktree's install)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "hoptrace_cli.main", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str, code: int = 2) -> str:
    """The refusal is exactly one stderr line containing every fragment, the exit is `code`, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("hoptrace"), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
