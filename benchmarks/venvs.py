"""Separate virtual environments for the peers, so their dependencies never leak into hoptrace's.

Created once under `.hoptrace/bench/venvs/` and reused; each run reports the versions it
measured (from `pip freeze`), because a figure without its versions means little.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".hoptrace" / "bench" / "venvs"

# The same boto3 in every environment, so only the tracer differs.
BOTO3 = "boto3==" + __import__("boto3").__version__
PEERS: dict[str, list[str]] = {
    "bare": [BOTO3],
    "hoptrace": [BOTO3, "opentelemetry-api", "opentelemetry-sdk", "opentelemetry-instrumentation-botocore"],
    "stock-otel": [BOTO3, "opentelemetry-api", "opentelemetry-sdk", "opentelemetry-instrumentation-botocore",
                   "opentelemetry-instrumentation-aws-lambda", "opentelemetry-exporter-otlp-proto-http"],
    "xray-sdk": [BOTO3, "aws-xray-sdk"],
}


def python_for(name: str, log: callable = print) -> Path:
    """The interpreter of peer `name`, creating its environment on first use."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".requirements"
    wanted = "\n".join(PEERS[name])
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"  creating environment for {name} (once): {', '.join(PEERS[name])}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEERS[name]],
                   check=True)
    marker.write_text(wanted)
    return python


def versions(name: str) -> dict[str, str]:
    frozen = subprocess.run([str(python_for(name)), "-m", "pip", "freeze"], capture_output=True, text=True,
                            check=True).stdout
    keep = ("boto3", "opentelemetry-sdk", "opentelemetry-instrumentation-botocore",
            "opentelemetry-instrumentation-aws-lambda", "opentelemetry-exporter-otlp-proto-http", "aws-xray-sdk")
    pinned = dict(line.split("==", 1) for line in frozen.splitlines() if "==" in line)
    return {k: v for k, v in pinned.items() if k.lower() in keep}
