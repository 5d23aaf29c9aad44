"""hoptrace: distributed tracing for AWS Lambda, attached as a layer with no code change.

`hoptrace.trace` is the decorator; the no-code paths are `hoptrace.handler.handler`
(handler redirect) and the exec wrapper in `hoptrace/bin/exec-wrapper`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["trace"]


def trace(handler: Any = None, **kwargs: Any) -> Any:
    # Imported on use so `import hoptrace.wire` (the collector) never loads the SDK.
    from hoptrace.wrapper import trace as _trace

    return _trace(handler, **kwargs)
