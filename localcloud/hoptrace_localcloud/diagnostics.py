"""One place that reports template features the local cloud skips, so nothing is dropped silently."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("hoptrace.localcloud")


class Diagnostics:
    """Collects one warning line per unsupported resource/property and logs it as it comes."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        #: Where the user wrote what produced a logical id (SAM generates `<Fn><Event>` for `Fn.Events.Event`).
        self.origin: Callable[[str], str] = lambda logical_id: logical_id

    def unsupported(self, logical_id: str, prop: str, detail: str) -> None:
        line = f"{self.origin(logical_id)}.{prop}: {detail}"
        with self._lock:
            if line in self.warnings:
                return
            self.warnings.append(line)
        logger.warning("not supported locally: %s", line)
