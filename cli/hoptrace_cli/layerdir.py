"""Lay out the installed `hoptrace` package the way Lambda mounts the layer under /opt.

`/opt/python/hoptrace/...` is what the runtime puts on the path and `/opt/hoptrace-exec-wrapper`
is what `AWS_LAMBDA_EXEC_WRAPPER` names; the local cloud maps a layer ARN to this directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import hoptrace

SOURCE = Path(hoptrace.__file__).parent
EXEC_WRAPPER = "hoptrace-exec-wrapper"


def assemble(destination: Path) -> Path:
    """Copy (not link) the package, so editing the checkout never changes a running demo's layer."""
    package = destination / "python" / "hoptrace"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(SOURCE, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "py.typed"))
    wrapper = destination / EXEC_WRAPPER
    shutil.copy(SOURCE / "bin" / "exec-wrapper", wrapper)
    wrapper.chmod(0o755)
    return destination
