"""Cold-start anatomy (`HOPTRACE_COLDSTART_IMPORTS=true`): what the user's code spent its init importing.

While the handler's module is imported, `builtins.__import__` is wrapped so each module that
module imports itself (and that was not loaded yet) is timed; the handler's module is timed as a
whole. The first invocation turns them into `import <module>` children of the init span, so
a waterfall shows *what* made the cold start slow. Imported only when the setting is on: off,
it costs nothing.
"""

from __future__ import annotations

import builtins
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from hoptrace import coldstart

T = TypeVar("T")


def timed(module_name: str, load: Callable[[], T]) -> T:
    """`load()` (the import of the handler's module), with its own top-level imports timed."""
    original = builtins.__import__
    depth = 0

    def timing_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        nonlocal depth
        if depth or (level == 0 and name in sys.modules):
            return original(name, globals, locals, fromlist, level)
        depth += 1
        began = time.time_ns()
        try:
            return original(name, globals, locals, fromlist, level)
        finally:
            depth -= 1
            label = name if level == 0 else "." * level + (name or ",".join(fromlist or ()))
            coldstart.imports().append((label, began, time.time_ns()))

    began = time.time_ns()
    builtins.__import__ = timing_import
    try:
        return load()
    finally:
        builtins.__import__ = original
        coldstart.imports().append((module_name, began, time.time_ns()))
