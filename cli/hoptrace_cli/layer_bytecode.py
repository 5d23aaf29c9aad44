"""`.pyc` files for the target runtime's Python, compiled by that Python.

Lambda mounts layers read-only under /opt, so a layer without bytecode is compiled again at every
cold start and never cached. Bytecode is specific to a Python minor version, so it can only be made
by an interpreter of that version: we look for one (pyenv, PATH, uv) and, if there is none, ship
sources only for that target and say so.

The files are `unchecked-hash` pycs: Python loads them without looking at the source's mtime
(the zip's timestamps are fixed, and /opt cannot change anyway), and they carry no build-time
timestamp, so two builds are byte-identical.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

LAMBDA_PYTHON_ROOT = "/opt/python"


def find_interpreter(version: str, explicit: dict[str, str] | None = None) -> str | None:
    """A runnable CPython `version` ("3.12"), or None. Candidates are checked by running them, since
    pyenv's shims exist on PATH for versions that are installed but not selected."""
    candidates: list[str] = []
    if explicit and version in explicit:
        candidates.append(explicit[version])
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    patches = sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"),
                     key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()], reverse=True)
    candidates += [str(p) for p in patches]
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    uv = shutil.which("uv")
    if uv:
        found = subprocess.run([uv, "python", "find", "--no-python-downloads", version], capture_output=True,
                               text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    for candidate in candidates:
        if _reports_version(candidate, version):
            return candidate
    return None


def _reports_version(executable: str, version: str) -> bool:
    try:
        done = subprocess.run([executable, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def interpreter_version(executable: str) -> str:
    done = subprocess.run([executable, "-I", "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def compile_tree(executable: str, python_dir: Path) -> int:
    """Compile every module under `python_dir` (the layer's `python/`) in place; return the count.

    `-d /opt/python` records the path the runtime will see instead of this machine's temporary
    folder, and PYTHONHASHSEED=0 fixes the order of set constants: both would otherwise differ
    from one build to the next.
    """
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [executable, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
               "-d", LAMBDA_PYTHON_ROOT, str(python_dir)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        # A module that does not compile on the target Python would fail there at import: stop here.
        raise RuntimeError(f"{executable} could not compile the layer:\n{done.stdout}{done.stderr}")
    return sum(1 for _ in python_dir.rglob("*.pyc"))
