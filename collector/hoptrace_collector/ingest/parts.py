"""`HOPTRACE-PART` pieces of one span line, kept across batches until the last piece arrives.

CloudWatch may deliver the pieces of one line in different batches (even different
invocations of the collector), so incomplete pieces are kept in this process's memory.
The bound: a part set older than `max_age_s` (default 15 minutes) or beyond `max_pending`
sets is given up and reported once as `incomplete_part`, with the log group and stream its
first piece came from. Pieces that land in another collector instance (Lambda may run
several in parallel) cannot be joined and end up reported the same way.

Redelivered pieces of a line already joined are ignored (a bounded memory of finished ids),
and a batch whose store write fails is rolled back here too (`checkpoint` / `rollback`), so
its pieces are joined again when the batch is retried.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from hoptrace import wire


@dataclass(frozen=True, slots=True)
class Origin:
    log_group: str
    log_stream: str
    first_seen: float


class PartBuffer:
    def __init__(self, max_age_s: float = 900.0, max_pending: int = 1000, remember_done: int = 10_000) -> None:
        self.max_age_s = max_age_s
        self.max_pending = max_pending
        self._remember = remember_done
        self._assembler = wire.Reassembler()
        self._origins: dict[str, Origin] = {}
        self._done: OrderedDict[str, None] = OrderedDict()
        self._saved: tuple[dict[str, dict[int, str]], dict[str, int], dict[str, Origin], list[str]] | None = None

    def feed(self, message: str, log_group: str, log_stream: str, now: float | None = None) -> str | None:
        """The whole `HOPTRACE ` line once its last piece is in, else None. Raises wire.WireError."""
        part_id = message[len(wire.PART_PREFIX):].split(" ", 1)[0]
        if part_id in self._done:
            return None
        if part_id not in self._origins:
            self._origins[part_id] = Origin(log_group, log_stream, time.monotonic() if now is None else now)
        try:
            line = self._assembler.feed(message)
        except wire.WireError:
            if part_id not in self._assembler.pending:  # a bad header, or a set given up over conflicting totals
                self._origins.pop(part_id, None)
            raise
        if line is not None:
            del self._origins[part_id]
            self._done[part_id] = None
            if len(self._done) > self._remember:
                self._done.popitem(last=False)
        return line

    def expire(self, now: float | None = None) -> list[tuple[str, Origin, int, int]]:
        """Give up part sets too old or too many: (part id, origin, pieces seen, pieces expected)."""
        now = time.monotonic() if now is None else now
        by_age = sorted(self._origins.items(), key=lambda item: item[1].first_seen)
        overflow = len(by_age) - self.max_pending
        expired = []
        for index, (part_id, origin) in enumerate(by_age):
            if index >= overflow and now - origin.first_seen <= self.max_age_s:
                break
            expired.append((part_id, origin, len(self._assembler.pending.get(part_id, {})),
                            self._assembler.totals.get(part_id, 0)))
            self._assembler.pending.pop(part_id, None)
            self._assembler.totals.pop(part_id, None)
            del self._origins[part_id]
        return expired

    @property
    def pending(self) -> int:
        return len(self._origins)

    def checkpoint(self) -> None:
        """Remember the state before a batch, so a failed store write can put its pieces back."""
        self._saved = ({k: dict(v) for k, v in self._assembler.pending.items()}, dict(self._assembler.totals),
                       dict(self._origins), list(self._done))

    def rollback(self) -> None:
        if self._saved is None:
            return
        pending, totals, origins, done = self._saved
        self._assembler.pending, self._assembler.totals = pending, totals
        self._origins = origins
        self._done = OrderedDict.fromkeys(done)
        self._saved = None
