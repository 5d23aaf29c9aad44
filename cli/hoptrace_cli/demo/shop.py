"""The demo shop's files staged into a run folder, from a checkout or from an installed wheel alike.

The template names sibling source folders (`CodeUri: ../collector/`), which is what `sam deploy` needs
in a checkout. An installed wheel has the packages (`hoptrace_collector`, …) but not those folders, so
each run gets a copy laid out the way the template expects:

    <run>/app/demo_services/template.yaml, orders/, payments/, …
    <run>/app/collector/hoptrace_collector/…    one folder per `../<folder>/` the template names

Copies, not links: editing a checkout never changes a running demo, as with the layer (`layerdir`).
"""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path

try:
    import demo_services
    SHOP = Path(demo_services.__file__).parent
except ImportError:  # an editable install made before the shop became a package: the checkout's folder
    SHOP = Path(__file__).resolve().parents[3] / "demo_services"

# The repository's source folders and the package each one holds (pyproject's package `where` list).
SOURCE_PACKAGES = {
    "layer": "hoptrace", "collector": "hoptrace_collector", "alerts": "hoptrace_alerts",
    "dashboard": "hoptrace_dashboard", "localcloud": "hoptrace_localcloud", "cli": "hoptrace_cli",
}
TEMPLATE_NAME = "template.yaml"
ALERT_RULES = SHOP / "alerts.toml"
_SIBLING = re.compile(r"(?:CodeUri|ContentUri):\s*['\"]?\.\./([A-Za-z0-9_-]+)/?")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


class ShopError(RuntimeError):
    """The installed hoptrace lacks a part the demo template needs; the message says which."""


def stage(destination: Path) -> Path:
    """Copy the shop and every source folder its template names under `destination`; return the template."""
    shop = destination / SHOP.name
    shutil.copytree(SHOP, shop, ignore=_SKIP, dirs_exist_ok=True)
    template = shop / TEMPLATE_NAME
    for folder in sorted(set(_SIBLING.findall(template.read_text()))):
        package = SOURCE_PACKAGES.get(folder)
        if package is None:
            raise ShopError(f"{template}: CodeUri ../{folder}/ names no hoptrace package "
                            f"(known: {', '.join(sorted(SOURCE_PACKAGES))})")
        try:
            source = Path(importlib.import_module(package).__file__ or "").parent
        except ImportError as exc:
            raise ShopError(f"the demo needs {package} (../{folder}/ in its template): "
                            f"pip install 'hoptrace[demo]' ({exc})") from exc
        shutil.copytree(source, destination / folder / package, ignore=_SKIP, dirs_exist_ok=True)
    return template
