"""The layer's third-party dependencies, installed for a target Lambda runtime rather than for this machine.

`pip install --target --platform --python-version --only-binary=:all:` picks the wheels Lambda would need
(a compiled `wrapt` for python3.12 on arm64, say) without running that Python. Versions are pinned to
the ones installed here by default, so the zip ships what the test suite ran against, and a rebuild
next month does not quietly pick up a new release. boto3/botocore are never installed: every Python
runtime provides them, and shipping a second copy would add ~25 MB and shadow the runtime's.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# What the Lambda Python runtime already has: the layer must not carry (or shadow) these.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"})
PLATFORM_TAGS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# Inside a *.dist-info folder, only what code reads at run time (version lookups, the entry points
# OpenTelemetry loads its context implementation from) and the licences we must pass on.
KEPT_METADATA = ("METADATA", "entry_points.txt", "top_level.txt")
LICENCE_PREFIXES = ("LICENSE", "LICENCE", "NOTICE", "COPYING", "AUTHORS")
BUILD_ONLY_SUFFIXES = (".pyi", ".c", ".h", ".pyx", ".pxd", ".cpp", ".md", ".rst")


class DependencyError(RuntimeError):
    """pip could not provide the layer's dependencies for a target; the message says which and why."""


@dataclass(frozen=True)
class Target:
    """One Lambda runtime + architecture the layer is built for."""

    python: str  # "3.12"
    arch: str  # "x86_64" | "arm64" (Lambda's names)

    @property
    def runtime(self) -> str:
        return f"python{self.python}"

    @property
    def platform_tag(self) -> str:
        return PLATFORM_TAGS[self.arch]


def runtime_requirements(distribution: str = "hoptrace") -> list[str]:
    """The distribution's own requirements without extras: the single source of what the layer needs."""
    wanted = [Requirement(line) for line in importlib.metadata.requires(distribution) or []]
    return sorted(_without_marker(r) for r in wanted if not _is_extra(r))


def extra_requirements(extra: str, distribution: str = "hoptrace") -> list[str]:
    """The requirements one extra of the distribution adds (`otel` for the OpenTelemetry SDK engine)."""
    wanted = [Requirement(line) for line in importlib.metadata.requires(distribution) or []]
    return sorted(_without_marker(r) for r in wanted
                  if r.marker is not None and r.marker.evaluate({"extra": extra}) and "extra" in str(r.marker))


def _is_extra(requirement: Requirement) -> bool:
    return requirement.marker is not None and "extra" in str(requirement.marker)


def _without_marker(requirement: Requirement) -> str:
    requirement.marker = None
    return str(requirement)


def pins_from_environment(requirements: list[str]) -> list[str]:
    """`name==version` for every installed distribution the requirements pull in, recursively.

    Markers are ignored on purpose: a pin for a backport only some Pythons need is harmless as a
    constraint, and it keeps the pins the same for every target.
    """
    pins: dict[str, str] = {}
    queue = [Requirement(line) for line in requirements]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        if name in pins or name in RUNTIME_PROVIDED:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: left to pip's resolver
        pins[name] = distribution.version
        for line in distribution.requires or []:
            nested = Requirement(line)
            if not _is_extra(nested):
                queue.append(nested)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def cache_key(target: Target, requirements: list[str], constraints: list[str]) -> str:
    text = "\n".join([target.python, target.platform_tag, *requirements, "--", *constraints])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def install(target: Target, requirements: list[str], constraints: list[str] | None, cache_dir: Path,
            refresh: bool = False) -> tuple[Path, bool]:
    """A pruned tree of the dependencies for `target` and whether it came from the cache.

    Trees are cached by target + requirements + pins: with every version pinned the tree is fully
    determined, so a repeated build needs neither pip nor the network. Unpinned builds always run pip.
    """
    key = cache_key(target, requirements, constraints or [])
    cached = cache_dir / "deps" / f"py{target.python}-{target.arch}-{key}"
    if constraints is not None and cached.is_dir() and not refresh:
        return cached, True
    cached.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=cached.name + ".", dir=cached.parent))
    try:
        tree = work / "site"
        _pip_install(target, requirements, constraints, tree, cache_dir / "pip", work)
        prune(tree)
        shutil.rmtree(cached, ignore_errors=True)
        try:
            tree.rename(cached)  # a rename, so a concurrent or interrupted build never sees half a tree
        except OSError:
            if not cached.is_dir():
                raise  # else a concurrent build just put the same pinned tree there
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return cached, False


def _pip_install(target: Target, requirements: list[str], constraints: list[str] | None, tree: Path,
                 pip_cache: Path, work: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-warn-script-location", "--target", str(tree), "--platform", target.platform_tag,
               "--python-version", target.python, "--implementation", "cp", "--only-binary=:all:",
               "--no-compile", "--cache-dir", str(pip_cache)]
    if constraints is not None:
        constraint_file = work / "constraints.txt"
        constraint_file.write_text("\n".join(constraints) + "\n")
        command += ["--constraint", str(constraint_file)]
    done = subprocess.run([*command, *requirements], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "ERROR" in line] or done.stderr.splitlines()[-5:]
        raise DependencyError(
            f"pip could not install the layer's dependencies for {target.runtime} {target.arch}:\n  "
            + "\n  ".join(errors)
            + "\n(a pinned version may have no wheel for that Python/architecture: pass --no-pin to let pip "
            "choose, or --constraint FILE)"
        )
    shipped = {canonicalize_name(p.name.split("-")[0]) for p in tree.glob("*.dist-info")}
    unwanted = sorted(shipped & RUNTIME_PROVIDED)
    if unwanted:
        raise DependencyError(f"a dependency pulled in {', '.join(unwanted)}, which the Lambda runtime provides; "
                              "the layer must not ship (and shadow) them — find which requirement asks for it")


def prune(tree: Path) -> None:
    """Drop what only installers, type checkers and compilers read: console scripts, RECORD files,
    stubs, C sources, tests and any bytecode compiled for this machine's Python."""
    shutil.rmtree(tree / "bin", ignore_errors=True)
    for path in sorted(tree.rglob("*"), reverse=True):  # deepest first, so folders go after their files
        if not path.exists():
            continue
        relative = path.relative_to(tree)
        if path.is_dir():
            if path.name in ("__pycache__", "tests") or relative.parts[0].endswith("-stubs"):
                shutil.rmtree(path)
            continue
        in_metadata = relative.parts[0].endswith(".dist-info")
        if in_metadata:
            keep = path.name in KEPT_METADATA or "licenses" in relative.parts or path.name.upper().startswith(
                LICENCE_PREFIXES)
        else:
            keep = not (path.suffix in BUILD_ONLY_SUFFIXES or path.suffix == ".pyc" or path.name == "py.typed")
        if not keep:
            path.unlink()


def is_compiled(tree: Path) -> bool:
    """Whether anything in the tree is machine code, i.e. the layer must be built per architecture."""
    return any(path.suffix == ".so" or ".so." in path.name for path in tree.rglob("*") if path.is_file())
