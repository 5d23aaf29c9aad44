"""Outbound propagation: every call that leaves the function carries the trace with it.

AWS SDK calls get client spans and injected context from one hook of ours (`aws`), with a
small module per service for its attributes and its carrier; outgoing HTTP gets a client span
and `traceparent` (`http`). Both are installed only once their library is imported, so a
function that uses neither pays for neither.

The hooks are process-wide; the engine they start spans on is the active tracing's (`use`), so a
handler wrapped with its own `Config` gets its own engine and its own `trace_http` in its calls too.
"""

from __future__ import annotations

import sys
from typing import Any

from hoptrace.config import Config
from hoptrace.engine import Engine
from hoptrace.outbound.on_import import when_imported

_active: list[Any] = [None, False]  # the engine the hooks use, and whether HTTP calls are traced
_registered: set[str] = set()


def install(engine: Engine, config: Config) -> None:
    """Hooks on import of botocore (and, with `trace_http`, urllib3/urllib) using `engine` from now on."""
    use(engine, config.trace_http)
    if "aws" not in _registered:
        _registered.add("aws")

        def aws() -> None:
            from hoptrace.outbound import aws

            aws.install(_active[0])

        when_imported("botocore.client", aws)
    if config.trace_http and "http" not in _registered:
        _registered.add("http")

        def urllib3() -> None:
            from hoptrace.outbound import http

            http.install_urllib3(_active[0] if _active[1] else None)

        def urllib_request() -> None:
            from hoptrace.outbound import http

            http.install_urllib(_active[0] if _active[1] else None)

        when_imported("urllib3.connectionpool", urllib3)
        when_imported("urllib.request", urllib_request)


def use(engine: Engine, trace_http: bool) -> None:
    """Point the installed hooks at `engine` (cheap: called only when the active tracing changes)."""
    _active[0], _active[1] = engine, trace_http
    if "hoptrace.outbound.aws" in sys.modules:  # only once botocore was imported: nothing loaded for this
        from hoptrace.outbound import aws

        aws._engine = engine
    if "hoptrace.outbound.http" in sys.modules:
        from hoptrace.outbound import http

        http._engine = engine if trace_http else None
