"""`hoptrace demo` from an installed wheel (not an editable checkout): the shop and the sources its
template names must ship inside the wheel and be staged per run."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from hoptrace_cli.demo import shop

ROOT = Path(__file__).parents[2]


def test_stage_lays_out_every_folder_the_template_names(tmp_path: Path) -> None:
    # GIVEN the demo shop  WHEN it is staged into a run folder
    template = shop.stage(tmp_path)
    # THEN every `../<folder>/` CodeUri/ContentUri of the template exists beside it, holding its package
    text = template.read_text()
    folders = set(re.findall(r"(?:CodeUri|ContentUri):\s*\.\./(\w+)/", text))
    assert folders, "the demo template names the collector's source folder"
    for folder in folders:
        package = tmp_path / folder / shop.SOURCE_PACKAGES[folder]
        assert (package / "__init__.py").is_file(), package
    assert (template.parent / "payments" / "app.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))


def test_stage_names_a_folder_it_cannot_fill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "shop"
    fake.mkdir()
    (fake / "template.yaml").write_text("Resources:\n  F:\n    Properties:\n      CodeUri: ../nowhere/\n")
    monkeypatch.setattr(shop, "SHOP", fake)
    with pytest.raises(shop.ShopError, match=r"\.\./nowhere/ names no hoptrace package"):
        shop.stage(tmp_path / "run")


@pytest.mark.slow
@pytest.mark.e2e
def test_demo_runs_from_an_installed_wheel(tmp_path: Path) -> None:
    # GIVEN hoptrace built as a wheel and installed (not editable) into a fresh venv whose dependencies
    # come from this environment's site-packages (a path entry, so no editable finder is loaded)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "hoptrace-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", *map(str, wheels.glob("*.whl"))],
                   check=True, capture_output=True, timeout=300)
    located = subprocess.run([python, "-c", "import hoptrace_cli; print(hoptrace_cli.__file__)"],
                             check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert located.startswith(purelib), located
    # WHEN the demo runs headless from outside the checkout
    result = subprocess.run([venv / "bin" / "hoptrace", "demo", "--duration", "4", "--no-dashboard",
                             "--port", "0", "--data-dir", str(tmp_path / "runs")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=400)
    # THEN it traces its orders end to end
    assert result.returncode == 0, result.stderr[-3000:]
    traced = re.search(r"order flows\s+(\d+)/(\d+) placed orders traced", result.stdout)
    assert traced and int(traced.group(2)) > 0 and traced.group(1) == traced.group(2), result.stdout
