"""The build step: requirements.txt of a function and of a `BuildMethod: python3.x` layer installed once into a
cache keyed by their hash (the second start installs nothing), `build=False` skips it, a failing install is one
line naming the function and the file. The app runs with hoptrace attached and the real collector: the
invocation is traced, and with the layer in front an import error still names the user's module."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from hoptrace import semconv
from hoptrace_localcloud.cloud import LocalCloud
from hoptrace_localcloud.template import TemplateError

from .conftest import APPS, FAST
from .traced import TracedStore, traced_app

pytestmark = pytest.mark.e2e


def _wheel(directory: Path, name: str) -> str:
    """A minimal pure-python wheel (no network, no build backend needed to install it)."""
    filename = f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(directory / filename, "w") as wheel:
        wheel.writestr(f"{name}.py", f"NAME = {name!r}\n")
        info = f"{name}-1.0.dist-info"
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        wheel.writestr(f"{info}/WHEEL",
                       "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return filename


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(APPS / "build", root)
    (root / "layer").mkdir(exist_ok=True)  # git keeps no empty folder: the layer holds only what the test writes
    (root / "src" / "requirements.txt").write_text(_wheel(root / "src", "fromfunction") + "\n")
    (root / "layer" / "requirements.txt").write_text(_wheel(root / "layer", "fromlayer") + "\n")
    traced_app(root, root)
    return root


def test_requirements_are_installed_once_and_reused(app: Path, tmp_path: Path, capfd):
    cache = tmp_path / "cache"
    with LocalCloud(app / "template.yaml", FAST, build_cache=str(cache)) as cloud:
        invocation = cloud.invoke("Uses", {})
        assert invocation.payload == {"function": "fromfunction", "layer": "fromlayer"}
        [span] = TracedStore(cloud, app).invocations("Uses", semconv.TRIGGER_INVOKE)
        assert span.request_id == invocation.request_id and span.status != "error"
    first = capfd.readouterr().err
    assert "build Uses: installing" in first and "build Deps: installing" in first
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 3  # and the collector function's
    with LocalCloud(app / "template.yaml", FAST, build_cache=str(cache)) as cloud:
        assert cloud.invoke("Uses", {}).payload == {"function": "fromfunction", "layer": "fromlayer"}
    second = capfd.readouterr().err
    assert "installing" not in second and "unchanged" in second


def test_no_build_skips_and_the_import_error_names_the_users_module(app: Path, tmp_path: Path):
    with LocalCloud(app / "template.yaml", FAST, build=False, build_cache=str(tmp_path / "c")) as cloud:
        invocation = cloud.invoke("Uses", {})
        assert invocation.failed
        assert invocation.error["errorType"] == "Runtime.ImportModuleError"
        assert "Unable to import module 'app': No module named 'fromfunction'" in invocation.error["errorMessage"]
        # AND the failed invocation reaches the store, failed, with Lambda's own error text
        store = TracedStore(cloud, app)
        failed = store.wait("the failed invocation", lambda s: [x for x in s.spans(function=cloud.function(
            "Uses").spec.name) if x.request_id == invocation.request_id and x.status == "error"])
        assert any("No module named 'fromfunction'" in span.status_message for span in failed), failed
    assert not (tmp_path / "c").exists()


def test_a_failing_install_is_one_line_naming_the_function_and_file(app: Path, tmp_path: Path):
    (app / "src" / "requirements.txt").write_text("./no-such-package-1.0-py3-none-any.whl\n")
    with pytest.raises(TemplateError) as raised:
        LocalCloud(app / "template.yaml", FAST, build_cache=str(tmp_path / "cache")).start()
    message = str(raised.value)
    assert message.startswith("Uses: pip could not install ") and "src/requirements.txt" in message
    assert "\n" not in message and "--no-build" in message
