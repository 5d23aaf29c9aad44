"""Handler redirect: set the function's handler to `hoptrace.handler.handler` and
`HOPTRACE_HANDLER` to your own (`module.function`, e.g. `app.lambda_handler` or
`src/orders/app.handler`).

The user's handler is imported at init, as Lambda would import it, so a wrong value fails
the init with a message naming it rather than every invocation later.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from hoptrace import config
from hoptrace.wrapper import wrap


class HandlerConfigError(Exception):
    """HOPTRACE_HANDLER is missing or does not name a callable."""


class ImportModuleError(Exception):
    """The user's module failed to import: raised by every invocation, named as Lambda's runtime names it."""


ImportModuleError.__name__ = ImportModuleError.__qualname__ = "Runtime.ImportModuleError"
ImportModuleError.__module__ = "builtins"  # tracebacks print the bare name, as Lambda does


def _import_fault(message: str) -> Callable[..., Any]:
    """What Lambda's runtime does when the handler's module fails to import: init goes on, every invocation
    fails with `Runtime.ImportModuleError` and the text naming the user's module (not hoptrace.handler)."""
    print(f"[ERROR] Runtime.ImportModuleError: {message}", file=sys.stderr, flush=True)

    def fault(event: Any, context: Any) -> Any:
        raise ImportModuleError(message)

    return fault


def load(spec: str | None) -> Callable[..., Any]:
    if not spec or not spec.strip():
        raise HandlerConfigError(
            "HOPTRACE_HANDLER is not set: set it to your handler as 'module.function' "
            "(e.g. 'app.lambda_handler'), the value the function's Handler had before hoptrace"
        )
    spec = spec.strip()
    folder, _, dotted = spec.rpartition("/")
    module_name, _, function_name = dotted.rpartition(".")
    if not module_name or not function_name:
        raise HandlerConfigError(
            f"HOPTRACE_HANDLER={spec!r} must look like 'module.function' (e.g. 'app.lambda_handler')"
        )
    if folder:
        root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
        path = os.path.join(root, folder)
        if path not in sys.path:
            sys.path.insert(0, path)
    module_name = module_name.replace("/", ".")
    try:
        if config.default().coldstart_imports:
            from hoptrace.import_timing import timed

            module = timed(module_name, lambda: importlib.import_module(module_name))
        else:
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise HandlerConfigError(
                f"HOPTRACE_HANDLER={spec!r}: no module named {module_name!r} (looked in {sys.path[:3]}...)"
            ) from error
        return _import_fault(f"Unable to import module '{module_name}': {error}")
    except ImportError as error:  # the user's module itself failed to import something
        return _import_fault(f"Unable to import module '{module_name}': {error}")
    function: object = getattr(module, function_name, None)
    if not callable(function):
        raise HandlerConfigError(f"HOPTRACE_HANDLER={spec!r}: module {module_name!r} has no function "
                                 f"{function_name!r}")
    return function


handler = wrap(load(os.environ.get("HOPTRACE_HANDLER")))
