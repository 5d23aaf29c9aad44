"""The six peers as the local cloud runs them: one runtime, and a layer per tracer.

Every worker runs the `runtime` environment's interpreter (Python + boto3, as the Lambda runtime
provides them; benchmarks/venvs.py), so the peers differ only by what they attach:

- `bare`: nothing.
- `hoptrace`: the default engine's layer zip as `hoptrace layer build` makes it (with its `.pyc`),
  attached by handler redirect (`hoptrace.handler.handler` + `HOPTRACE_HANDLER`). Its "three manual
  spans" handler uses opentelemetry-api, which such a function ships itself (staged beside the layer).
- `hoptrace-sdk`: the OpenTelemetry SDK engine's zip (`hoptrace layer build --engine otel`),
  attached the same way with `HOPTRACE_ENGINE=otel`.
- `stock-otel`: what pip installed into the `stock-otel` environment beyond the runtime, laid out as
  a layer the same way (pruned, compiled for the target), plus the `otel-instrument` exec wrapper and
  `otel_wrapper.py`, as the opentelemetry-lambda Python layer is attached.
- `xray-sdk`: the same for `aws-xray-sdk`; the user's module calls `patch_all()` (startup_apps/xray_app.py).
- `powertools`: the same for `aws-lambda-powertools` + `aws-xray-sdk`; the user's module makes a `Tracer()`
  and decorates each handler with `capture_lambda_handler` (startup_apps/powertools_app.py).

The local cloud starts a worker with its own interpreter; a small exec wrapper (Lambda's
AWS_LAMBDA_EXEC_WRAPPER hook, which the local cloud honours) swaps in the runtime's, so no package
of the machine running the benchmark is on a worker's path.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import hoptrace
from benchmarks import venvs
from hoptrace_cli import layer_build, layer_bytecode, layer_deps, layer_zip

HERE = Path(__file__).resolve().parent
APPS = HERE / "startup_apps"
PEERS = ("bare", "hoptrace", "hoptrace-sdk", "stock-otel", "xray-sdk", "powertools")
XRAY_PEERS = frozenset({"xray-sdk", "powertools"})  # send to an X-Ray daemon
ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "x86_64")

# Both wrappers end alike: warm-run functions (BENCH_TIMINGS set) get the in-worker timer
# (startup_apps/bench_timer.py) in front of the peer's handler, then the local cloud's command
# (`<its python> -u -P runtime_bootstrap.py`) runs with the runtime's interpreter instead of its own.
_TAIL = """if [ -n "${{BENCH_TIMINGS:-}}" ]; then
  export BENCH_HANDLER="$_HANDLER" _HANDLER="bench_timer.handler"
fi
shift
exec {python} "$@"
"""
_RUNTIME_WRAPPER = "#!/bin/sh\n" + _TAIL
# What the opentelemetry-lambda layer's `otel-instrument` sets before starting the runtime.
_OTEL_INSTRUMENT = """#!/bin/sh
export ORIG_HANDLER="$_HANDLER"
export _HANDLER="otel_wrapper.lambda_handler"
export OTEL_PROPAGATORS="${{OTEL_PROPAGATORS:-tracecontext,baggage,xray}}"
export OTEL_SERVICE_NAME="${{OTEL_SERVICE_NAME:-$AWS_LAMBDA_FUNCTION_NAME}}"
export OTEL_RESOURCE_ATTRIBUTES="cloud.provider=aws,cloud.region=$AWS_REGION,faas.name=$AWS_LAMBDA_FUNCTION_NAME,\\
faas.version=$AWS_LAMBDA_FUNCTION_VERSION,faas.instance=$AWS_LAMBDA_LOG_STREAM_NAME"
""" + _TAIL


@dataclass
class Peer:
    """How one peer's functions are declared in the benchmark's template."""

    name: str
    layer: Path | None  # stands for /opt (holds python/)
    exec_wrapper: Path
    module: str  # the user's handler module
    manual: str = ""  # the module of its "three manual spans" handler (default: `module`)
    redirect: bool = False  # hoptrace's handler redirect
    env: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    archive: Path | None = None  # what the peer adds, as a layer zip
    zipped: int = 0  # its size in bytes
    unzipped: int = 0
    files: int = 0

    def user_handler(self, function: str) -> str:
        return f"{(self.manual or self.module) if function == 'three_spans' else self.module}.{function}"

    def handler(self, function: str) -> str:
        return "hoptrace.handler.handler" if self.redirect else self.user_handler(function)


_prepared: list[tuple[Path, dict[str, Peer]]] = []


def prepare(log: Callable[[str], None] = print) -> tuple[Path, dict[str, Peer]]:
    """The runtime's interpreter and every peer, laid out in a temporary folder that lives as long as the
    process: built once per run and shared by the startup and size benchmarks."""
    if not _prepared:
        _prepared.append(_prepare(log))
    return _prepared[0]


def _prepare(log: Callable[[str], None]) -> tuple[Path, dict[str, Peer]]:
    workdir = Path(tempfile.mkdtemp(prefix="hoptrace-bench-peers-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    pythons = venvs.ensure_all(log)
    runtime = pythons[venvs.RUNTIME]
    runtime_wrapper = _script(workdir / "runtime-wrapper", _RUNTIME_WRAPPER.format(python=runtime))
    log("  building the hoptrace layer (hoptrace layer build) and laying out the peers' packages as layers ...")
    stock = _stage("stock-otel", workdir)
    shutil.copy(APPS / "otel_wrapper.py", stock / "python" / "otel_wrapper.py")
    otel_instrument = _script(stock / "otel-instrument", _OTEL_INSTRUMENT.format(python=runtime))
    peers = {
        "bare": Peer("bare", None, runtime_wrapper, "app"),
        "hoptrace": _hoptrace(workdir, runtime, runtime_wrapper, "light"),
        "hoptrace-sdk": _hoptrace(workdir, runtime, runtime_wrapper, "otel"),
        "stock-otel": _measured(Peer("stock-otel", stock, otel_instrument, "app", manual="manual_otel"), runtime,
                                workdir),
        "xray-sdk": _measured(Peer("xray-sdk", _stage("xray-sdk", workdir), runtime_wrapper, "xray_app"), runtime,
                              workdir),
        "powertools": _measured(Peer("powertools", _stage("powertools", workdir), runtime_wrapper, "powertools_app",
                                     env={"POWERTOOLS_SERVICE_NAME": "bench"}), runtime, workdir),
    }
    return runtime, peers


def runtime_versions() -> dict[str, str]:
    wanted = ("boto3", "botocore")
    return {"python": platform.python_version(), **{k: v for k, v in venvs.versions(venvs.RUNTIME).items()
                                                    if k in wanted}}


def _script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def _hoptrace(workdir: Path, runtime: Path, wrapper: Path, engine: str) -> Peer:
    """The real layer zip of `engine`, unpacked where the local cloud mounts it."""
    name = "hoptrace" if engine == "light" else "hoptrace-sdk"
    python = platform.python_version_tuple()
    args = argparse.Namespace(python=[f"{python[0]}.{python[1]}"], arch=[ARCH], out=workdir / "dist" / name,
                              cache_dir=venvs.ROOT / ".hoptrace" / "layer-cache", refresh=False, constraint=None,
                              no_pin=False, interpreter=[f"{python[0]}.{python[1]}={runtime}"],
                              require_bytecode=True, max_unzipped_mb=None, pyproject=None, engine=engine)
    with contextlib.redirect_stdout(io.StringIO()):  # its own progress lines; the summary is ours
        built = layer_build.build(args)[0]
    layer = workdir / "layers" / name
    with zipfile.ZipFile(built.path) as archive:
        archive.extractall(layer)
    versions = {"hoptrace": hoptrace.__version__,
                **{key: dist.version for key, dist in venvs.installed(layer / "python").items()}}
    if engine == "light":  # the function's own opentelemetry-api, for its manual spans only
        api = _stage("otel-api", workdir) / "python"
        layer_bytecode.compile_tree(str(runtime), api)
        shutil.copytree(api, layer / "python", dirs_exist_ok=True)
    return Peer(name, layer, wrapper, "app", manual="manual_otel", redirect=True, versions=versions,
                archive=built.path, zipped=built.zipped, unzipped=built.unzipped, files=built.files,
                env={"HOPTRACE_ENGINE": engine})


def _stage(name: str, workdir: Path) -> Path:
    """The environment's packages beyond the runtime's under `<layer>/python`, pruned as the layer build prunes."""
    layer = workdir / "layers" / name
    python_dir = layer / "python"
    site = venvs.site_packages(name)
    for dist in venvs.added(name).values():
        for relative in dist.files or ():
            source = (site / relative).resolve()
            if source.is_file() and source.is_relative_to(site):  # not the console scripts in bin/
                target = python_dir / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    layer_deps.prune(python_dir)
    return layer


def _measured(peer: Peer, runtime: Path, workdir: Path) -> Peer:
    """Compiled for the runtime and zipped as `hoptrace layer build` does its own, so the sizes compare."""
    assert peer.layer is not None
    layer_bytecode.compile_tree(str(runtime), peer.layer / "python")
    archive = workdir / "dist" / f"{peer.name}-layer.zip"
    layer_zip.write(peer.layer, archive)
    peer.unzipped, peer.files = layer_zip.totals(archive)
    peer.archive, peer.zipped = archive, archive.stat().st_size
    peer.versions = {key: dist.version for key, dist in venvs.added(peer.name).items()}
    return peer
