"""Outbound propagation: every call that leaves the function carries the trace with it.

AWS SDK calls get client spans and injected context from one hook of ours (`aws`), with a
small module per service for its attributes and its carrier; outgoing HTTP gets a client span
and `traceparent` (`http`). Both are installed only once their library is imported, so a
function that uses neither pays for neither.
"""

from __future__ import annotations

from hoptrace.config import Config
from hoptrace.engine import Engine
from hoptrace.outbound.on_import import when_imported


def install(engine: Engine, config: Config) -> None:
    def aws() -> None:
        from hoptrace.outbound import aws

        aws.install(engine)

    when_imported("botocore.client", aws)
    if config.trace_http:
        def urllib3() -> None:
            from hoptrace.outbound import http

            http.install_urllib3(engine)

        def urllib_request() -> None:
            from hoptrace.outbound import http

            http.install_urllib(engine)

        when_imported("urllib3.connectionpool", urllib3)
        when_imported("urllib.request", urllib_request)
