"""`hoptrace layer build`: the zip holds only what Lambda needs, is reproducible, respects its budget,
and — unzipped into a clean virtual environment that has nothing but the zip's `python/` and boto3 —
traces a handler, including the botocore client span of an SQS call. The default engine's zip is one
for every runtime; the OpenTelemetry SDK engine's zip (`--engine otel`) traces the same way."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import platform
import stat
import subprocess
import sys
import tempfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from hoptrace import wire
from hoptrace_cli import layer_bytecode
from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS

from .conftest import CACHE, ROOT

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
ZIP_NAME = "hoptrace-layer-0.1.0.zip"
OTEL_ZIP_NAME = "hoptrace-otel-layer-0.1.0.zip"
FORBIDDEN = ("boto3", "botocore", "s3transfer", "moto", "hoptrace_cli", "hoptrace_collector", "hoptrace_dashboard",
             "hoptrace_localcloud", "bin")

APP = '''
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="layer-zip-test")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello from the layer zip")
    return {"statusCode": 200}
'''
# What the Lambda runtime does, minus the runtime: import the configured handler, call it once.
RUNTIME = '''
import importlib.util, json, sys, types
assert importlib.util.find_spec("hoptrace_cli") is None and importlib.util.find_spec("moto") is None
import hoptrace.handler
context = types.SimpleNamespace(aws_request_id="zip-1", function_name="zipped", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:zipped",
                                memory_limit_in_mb=128, get_remaining_time_in_millis=lambda: 30000)
hoptrace.handler.handler({"ping": True}, context)
ours = [m for name, m in sorted(sys.modules.items()) if name.split(".")[0] in ("hoptrace", "opentelemetry")]
print("MODULES " + json.dumps({m.__name__: m.__file__ for m in ours if getattr(m, "__file__", None)}))
'''

pytestmark = pytest.mark.skipif(PYTHON not in ("3.11", "3.12", "3.13"), reason="not a supported layer runtime")


def build(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hoptrace_cli.main", "layer", "build", "--python", PYTHON, "--arch", ARCH,
               "--out", str(out), "--cache-dir", str(CACHE / "layer"), *extra]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=180)


@pytest.fixture(scope="module")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layer")
    done = build(out)
    assert done.returncode == 0, done.stderr + done.stdout
    # The report names the zip, its sizes, its contents and the budget it was held to.
    budget = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hoptrace"]["layer"]["max_unzipped_mb"]
    assert f"{out / ZIP_NAME} — " in done.stdout and "MB unzipped" in done.stdout, done.stdout
    assert "standard library only" in done.stdout and f"budget {budget:g} MB unzipped" in done.stdout, done.stdout
    return out / ZIP_NAME


@pytest.fixture(scope="module")
def otel_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("otel-layer")
    done = build(out, "--engine", "otel")
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"{out / OTEL_ZIP_NAME} — " in done.stdout and "opentelemetry " in done.stdout, done.stdout
    return out / OTEL_ZIP_NAME


def test_one_default_zip_serves_every_runtime_with_each_ones_bytecode(tmp_path: Path) -> None:
    # WHEN built for every supported runtime that is on this machine
    pythons = [p for p in ("3.11", "3.12", "3.13") if layer_bytecode.find_interpreter(p, {})]
    command = [sys.executable, "-m", "hoptrace_cli.main", "layer", "build", "--out", str(tmp_path),
               "--cache-dir", str(CACHE / "layer"), *(arg for p in pythons for arg in ("--python", p))]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    # THEN there is one zip, for any architecture, with every runtime's bytecode beside the sources
    assert [p.name for p in tmp_path.glob("*.zip")] == [ZIP_NAME]
    with zipfile.ZipFile(tmp_path / ZIP_NAME) as archive:
        names = archive.namelist()
    sources = [n for n in names if n.endswith(".py")]
    for python in pythons:
        tag = f".cpython-{python.replace('.', '')}.pyc"
        assert len([n for n in names if n.endswith(tag)]) == len(sources), python
    assert "--compatible-architectures x86_64 arm64" in done.stdout
    assert f"--compatible-runtimes {' '.join(f'python{p}' for p in pythons)}" in done.stdout


def test_zip_holds_the_package_its_runtime_dependencies_and_the_exec_wrapper_only(layer_zip: Path) -> None:
    # GIVEN the built zip
    with zipfile.ZipFile(layer_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        wrapper = archive.read("hoptrace-exec-wrapper")
    names = [name for name in infos if not name.endswith("/")]
    # THEN the exec wrapper sits at the root (/opt/hoptrace-exec-wrapper), executable, as in the source
    assert wrapper == (ROOT / "layer" / "hoptrace" / "bin" / "exec-wrapper").read_bytes()
    assert stat.S_IMODE(infos["hoptrace-exec-wrapper"].external_attr >> 16) == 0o755
    # AND everything else is under python/: hoptrace alone (the default engine needs no dependency)
    assert {name.split("/")[0] for name in names} == {"python", "hoptrace-exec-wrapper"}
    top = {name.split("/")[1].split("-")[0].split(".")[0] for name in names if name.startswith("python/")}
    assert top == {"hoptrace"}
    assert not top & set(FORBIDDEN), top & set(FORBIDDEN)
    # AND no tests, installer records, stubs or C sources
    assert not [n for n in names if "/tests/" in n or n.endswith(("/RECORD", "/INSTALLER", ".pyi", ".c"))]
    # AND every module has bytecode for this Python, and no other Python's
    tag = sys.implementation.cache_tag
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs and all(f".{tag}.pyc" in n for n in pycs)
    sources = [n for n in names if n.endswith(".py")]
    assert len(pycs) == len(sources)
    with zipfile.ZipFile(layer_zip) as archive:
        assert archive.read(pycs[0])[:4] == importlib.util.MAGIC_NUMBER
    # AND fixed timestamps and permissions
    assert {info.date_time for info in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert {stat.S_IMODE(i.external_attr >> 16) for n, i in infos.items() if n.endswith(".py")} == {0o644}


def test_two_builds_give_byte_identical_zips(layer_zip: Path, tmp_path: Path) -> None:
    # WHEN the layer is built again, pip included (--refresh skips the cached dependency tree)
    done = build(tmp_path, "--refresh")
    # THEN the bytes are the same
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ZIP_NAME).read_bytes() == layer_zip.read_bytes()


def test_a_layer_past_its_budget_fails_with_a_clear_message(layer_zip: Path, tmp_path: Path) -> None:
    # WHEN the budget is set below the layer's size
    done = build(tmp_path, "--max-unzipped-mb", "0.1")
    # THEN the build fails, says by how much and where the budget comes from, and keeps no zip
    assert done.returncode == 1
    assert "over 0.1 MB" in done.stderr and "max_unzipped_mb" in done.stderr, done.stderr
    assert not (tmp_path / ZIP_NAME).exists()


@pytest.mark.parametrize("engine", ["light", "otel"])
def test_the_zip_traces_a_handler_in_a_clean_environment_with_only_boto3(engine: str, request: pytest.FixtureRequest,
                                                                         tmp_path: Path, moto_endpoint: str) -> None:
    # GIVEN the engine's zip unpacked as Lambda does under /opt, a venv without site-packages, boto3 and a handler
    layer_zip = request.getfixturevalue("layer_zip" if engine == "light" else "otel_zip")
    opt = tmp_path / "opt"
    with zipfile.ZipFile(layer_zip) as archive:
        archive.extractall(opt)
    python = _clean_venv(tmp_path / "venv")
    task = tmp_path / "task"
    task.mkdir()
    (task / "app.py").write_text(APP)
    before = _snapshot(opt)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "AWS_", "HOPTRACE_"))}
    env.update(DUMMY_CREDENTIALS, PYTHONPATH=os.pathsep.join([str(opt / "python"), str(_boto3_dir()), str(task)]),
               HOPTRACE_HANDLER="app.handler", HOPTRACE_ENGINE=engine, AWS_LAMBDA_FUNCTION_NAME="zipped",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=moto_endpoint)
    # WHEN the handler redirect runs one invocation
    done = subprocess.run([str(python), "-c", RUNTIME], env=env, cwd=task, capture_output=True, text=True,
                          timeout=60)
    # THEN it wrote a valid HOPTRACE line with the invocation span and the SQS client span
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if wire.is_span_line(line)]
    assert len(lines) == 1, done.stdout
    resource, spans, problems = wire.decode(lines[0])
    assert not problems and resource
    assert any(s["kind"] == "server" and s["parent_id"] is None for s in spans)
    send = [s for s in spans if s["kind"] in ("client", "producer")
            and s["attributes"].get("rpc.service") == "SQS" and s["attributes"].get("rpc.method") == "SendMessage"]
    assert send, [(s["name"], s["kind"]) for s in spans]
    # AND every module came from the zip, whose shipped bytecode was used as is (nothing recompiled)
    modules = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))[8:])
    assert all(path.startswith(str(opt / "python")) for path in modules.values()), modules
    assert ("opentelemetry.sdk.trace" in modules) == (engine == "otel")
    assert _snapshot(opt) == before


def _clean_venv(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=True).create(folder)
    return folder / "bin" / "python"


def _boto3_dir() -> Path:
    """boto3 at this environment's version, pip-installed once into the test cache (a rename makes it atomic)."""
    version = importlib.metadata.version("boto3")
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in ("boto3", "botocore")]
    folder = CACHE / f"boto3-{version}"
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=folder.parent))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(work / "site"), *pins], check=True, capture_output=True, timeout=300)
        (work / "site").rename(folder)
        work.rmdir()
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
