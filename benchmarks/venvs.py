"""Separate virtual environments, so no peer's dependencies ever leak into another's (or into hoptrace's).

Created once under `.hoptrace/bench/venvs/` and reused while their requirements are unchanged:

- `runtime`: what the Lambda Python runtime provides — the interpreter and boto3/botocore, pinned to
  the versions installed here. Every benchmarked worker runs this interpreter, so the peers differ
  only by what their layer adds, as on Lambda.
- `stock-otel`, `xray-sdk`, `powertools`: each peer installed by pip with its own dependency resolution;
  what it adds beyond the runtime becomes that peer's layer (benchmarks/peers.py).
- `otel-api`: opentelemetry-api alone, which the hoptrace peers' "three manual spans" handler uses
  (hoptrace's API for spans of your own is OpenTelemetry's).

The environments are made without pip or setuptools (pip runs from outside with `--python`): a
setuptools `.pth` file would run at every interpreter start and count as cold start for everyone.
Each run reports the versions it measured, because a figure without its versions means little.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".hoptrace" / "bench" / "venvs"
RUNTIME = "runtime"

# The same boto3/botocore in every environment, so only the tracer differs.
BOTO = [f"boto3=={importlib.metadata.version('boto3')}", f"botocore=={importlib.metadata.version('botocore')}"]
ENVIRONMENTS: dict[str, list[str]] = {
    RUNTIME: BOTO,
    # What the opentelemetry-lambda Python layer sets up for traces: SDK, OTLP/HTTP exporter, the AWS
    # Lambda and botocore instrumentations and the X-Ray propagator (in its default OTEL_PROPAGATORS).
    "stock-otel": [*BOTO, "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http",
                   "opentelemetry-instrumentation-aws-lambda", "opentelemetry-instrumentation-botocore",
                   "opentelemetry-propagator-aws-xray"],
    "xray-sdk": [*BOTO, "aws-xray-sdk"],
    # Powertools for AWS Lambda's Tracer is a layer over the X-Ray SDK (it patches boto3 through it).
    "powertools": [*BOTO, "aws-lambda-powertools", "aws-xray-sdk"],
    # opentelemetry-api alone: what a function using hoptrace's default engine ships to make spans of its own.
    "otel-api": [*BOTO, f"opentelemetry-api=={importlib.metadata.version('opentelemetry-api')}"],
}


def python_for(name: str, log: Callable[[str], None] = print) -> Path:
    """The interpreter of environment `name`, creating the environment on first use."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".requirements"
    wanted = "\n".join(ENVIRONMENTS[name])
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"  creating environment {name} (once): {', '.join(ENVIRONMENTS[name])}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--disable-pip-version-check", *ENVIRONMENTS[name]], check=True)
    marker.write_text(wanted)
    return python


def ensure_all(log: Callable[[str], None] = print) -> dict[str, Path]:
    """Every environment's interpreter; missing ones are created side by side (pip waits on the network)."""
    with ThreadPoolExecutor(max_workers=len(ENVIRONMENTS)) as pool:
        futures = {name: pool.submit(python_for, name, log) for name in ENVIRONMENTS}
    return {name: future.result() for name, future in futures.items()}


def site_packages(name: str) -> Path:
    return next((VENVS / name / "lib").glob("python*/site-packages"))


def installed(folder: Path) -> dict[str, importlib.metadata.Distribution]:
    """The distributions installed in `folder` (site-packages, a layer's python/) by canonical name, sorted;
    read from here, without running that environment's interpreter."""
    found = importlib.metadata.distributions(path=[str(folder)])
    return dict(sorted((canonicalize_name(dist.metadata["Name"]), dist) for dist in found))


def distributions(name: str) -> dict[str, importlib.metadata.Distribution]:
    return installed(site_packages(name))


def added(name: str) -> dict[str, importlib.metadata.Distribution]:
    """What environment `name` installs beyond the runtime's: the peer's own footprint."""
    runtime = distributions(RUNTIME)
    return {key: dist for key, dist in distributions(name).items() if key not in runtime}


def versions(name: str) -> dict[str, str]:
    return {key: dist.version for key, dist in distributions(name).items()}
