"""Where a log stream stands, kept in the store: which invocation is open in it after a batch, and the
`print` lines of a batch that holds no START / END, until the invocation they belong to is known.

`print` lines name no request: ingest/applog.py gives each to the invocation whose `START`
precedes it in its stream. When a `START` and the lines after it arrive in different
subscription batches, and different collector sandboxes take them (Lambda runs several at
once, and two batches of one stream may be processed at the same moment), no sandbox's memory
can say where the lines belong. So both halves meet in the store (ingest/openstream.py):

- a **state** per batch that leaves an invocation open or closes one an earlier batch opened:
  the open request id (None once closed) at the position of the mark that set it;
- **pending lines**: a batch of lines alone, stored by position in their stream.

A position is (time in ns, CloudWatch event id): event ids grow within a stream, so it orders
a stream's events exactly. Every row is keyed by its position, so redelivery rewrites the same
rows, and states are a history, so a late batch's state takes its own place in the order.
"""

from __future__ import annotations

from dataclasses import dataclass

Position = tuple[int, str]  # (time in ns, CloudWatch event id): the order of events within one stream


@dataclass(frozen=True, slots=True)
class StreamState:
    log_group: str
    log_stream: str
    request_id: str | None  # the invocation open in the stream from here on; None once its END was seen
    time_ns: int  # of the mark that set this state
    event_id: str

    @property
    def position(self) -> Position:
        return self.time_ns, self.event_id


def position_key(position: Position) -> str:
    """A position as a string that sorts as positions do (event ids have one length within a stream)."""
    return f"{position[0]:020d}#{position[1]}"
