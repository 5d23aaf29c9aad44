"""The collector function: `hoptrace_collector.handler.handler`, subscribed to function log groups.

The store is opened once per process, on the first event (not at import, so a bad
`HOPTRACE_STORE` fails the invocation with its message instead of the init), and reused
while Lambda keeps the process warm. Bad input never raises out of here; a failed store
write does, so CloudWatch Logs retries the batch (and redelivery is idempotent).
"""

from __future__ import annotations

import threading
from typing import Any

from hoptrace_collector.config import CollectorConfig
from hoptrace_collector.ingest.applog import LogLimits
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.ingest.parts import PartBuffer
from hoptrace_collector.ingest.records import Limits
from hoptrace_collector.store import open_store

_INGESTOR: Ingestor | None = None
_LOCK = threading.Lock()


def ingestor(config: CollectorConfig | None = None) -> Ingestor:
    """The process's ingestor, built on first use from the environment."""
    global _INGESTOR
    with _LOCK:
        if _INGESTOR is None:
            config = config or CollectorConfig.from_env()
            from hoptrace_collector.forward import forwarder

            _INGESTOR = Ingestor(open_store(config.store_url), PartBuffer(config.part_max_age_s),
                                 Limits(max_attribute_chars=config.max_attribute_length),
                                 own_log_group=config.own_log_group, forward=forwarder(config),
                                 log_limits=LogLimits(config.max_log_lines, config.max_log_line_chars),
                                 redacted_keys=config.redacted_keys)
        return _INGESTOR


def reset() -> None:
    """Forget the process's store (tests, or a changed environment)."""
    global _INGESTOR
    with _LOCK:
        if _INGESTOR is not None:
            _INGESTOR.store.close()
        _INGESTOR = None


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point for CloudWatch Logs subscription events; returns the batch's counts."""
    return ingestor().ingest(event)
