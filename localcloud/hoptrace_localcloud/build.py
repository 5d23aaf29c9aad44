"""The build step `sam build` does for Python: each function's `requirements.txt` (in its `CodeUri`) and each
layer's with `BuildMethod: python3.x` is installed once into a cached folder keyed by the requirements' hash and
the Python version, so a second start (or a second function with the same requirements) installs nothing.

Workers get the folder on their path right after the code (functions) or the layer's python dir (layers), as
the package `sam build` produces would have it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .functions import PYTHON_TAG

DEFAULT_CACHE = Path.home() / ".hoptrace" / "build"


class BuildError(RuntimeError):
    """An install failed; the message names the function or layer and the requirements file."""


def requirements_of(directory: Path) -> Path | None:
    path = directory / "requirements.txt"
    return path if path.is_file() and path.read_text(errors="replace").strip() else None


def build_key(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(PYTHON_TAG.encode())
    return digest.hexdigest()[:20]


class Builder:
    """Installs requirements into `cache/<hash>/`, reporting progress through `progress`."""

    def __init__(self, cache: Path = DEFAULT_CACHE, progress: Callable[[str], None] = print,
                 pip: list[str] | None = None) -> None:
        self._cache = cache
        self._progress = progress
        self._pip = pip or [sys.executable, "-m", "pip"]

    def dependencies(self, owner: str, directory: Path) -> Path | None:
        """The built folder for `directory`'s requirements.txt (None without one); installs on first use."""
        requirements = requirements_of(directory)
        if requirements is None:
            return None
        target = self._cache / build_key(requirements)
        if (target / ".complete").is_file():
            self._progress(f"build {owner}: {requirements} unchanged, using {target}")
            return target
        self._progress(f"build {owner}: installing {requirements} into {target} …")
        self._cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self._cache))
        try:
            done = subprocess.run([*self._pip, "install", "--disable-pip-version-check", "--no-input", "-q",
                                   "-r", str(requirements), "-t", str(staging)],
                                  cwd=requirements.parent, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
                reason = next((line.strip() for line in lines if line.startswith("ERROR")), lines[-1] if lines
                              else f"pip exited with {done.returncode}")
                raise BuildError(f"{owner}: pip could not install {requirements}: {reason} "
                                 "(fix the file, or start with --no-build to skip the build step)")
            (staging / ".complete").write_text(requirements.read_text(errors="replace"))
            if target.exists():  # another start built it meanwhile
                shutil.rmtree(staging, ignore_errors=True)
            else:
                staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._progress(f"build {owner}: done")
        return target
