"""The demo's live line: what was sent against what the collector has stored so far."""

from __future__ import annotations

from hoptrace_collector.store import Store, StoreError, open_store

from .summary import stored_since
from .traffic import TrafficStats


class Progress:
    """Reads the store the collector is writing (SQLite allows many readers next to the writer)."""

    def __init__(self, store_url: str, since_ns: int) -> None:
        self.store_url = store_url
        self.since_ns = since_ns
        self._store: Store | None = None

    def spans(self) -> int:
        """Spans stored so far in this run; 0 until the collector wrote its first batch."""
        try:
            if self._store is None:
                self._store = open_store(self.store_url)
            return stored_since(self._store, self.since_ns)[1]
        except StoreError:
            return 0

    def line(self, stats: TrafficStats) -> str:
        statuses = " ".join(f"{status}:{n}" for status, n in sorted(stats.by_status.items()))
        return f"requests {stats.total} ({statuses})  spans stored {self.spans()}"
