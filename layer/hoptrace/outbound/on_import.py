"""Run a hook once a module is imported, without importing it ourselves.

botocore costs tens of milliseconds to import and urllib3 several; a function that never uses
them must not pay for our hooks. A hook whose module is already loaded runs at once; otherwise a
finder at the front of `sys.meta_path` waits for that one name and runs the hook right after the
module's own code. Each import of anything else costs the finder one dict lookup.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from typing import Any

from hoptrace import health

_waiting: dict[str, list[Callable[[], None]]] = {}


def _run(name: str, hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception as error:
        health.swallow(f"hook.{name}", error)


def when_imported(name: str, hook: Callable[[], None]) -> None:
    """`hook()` now if `name` is loaded, else right after it is."""
    if name in sys.modules:
        _run(name, hook)
        return
    if not _waiting:
        sys.meta_path.insert(0, _Finder())
    _waiting.setdefault(name, []).append(hook)


class _Loader:
    """Delegates to the real loader, then runs the hooks waiting for the module."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        for hook in _waiting.pop(self._name, ()):
            _run(self._name, hook)
        if not _waiting:
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]

    def __getattr__(self, attribute: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self._loader, attribute)


class _Finder:
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name not in _waiting:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    # A Loader by duck typing (the rest through __getattr__): subclassing importlib.abc.Loader
                    # would bring its own load_module/module_repr instead of the real loader's.
                    spec.loader = _Loader(spec.loader, name)  # type: ignore[assignment]  # see above
                return spec
        return None

    def invalidate_caches(self) -> None:
        return None
