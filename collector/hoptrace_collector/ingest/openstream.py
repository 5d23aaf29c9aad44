"""`print` lines split from their START by a batch boundary: the two halves meet in the store.

A batch of lines alone (no START / END in it, no request id on them) cannot tell its lines'
invocation; a batch that leaves an invocation open cannot see the lines that follow. Each
writes its half first and then reads the other's (store/streamstate.py):

- lines alone: stored as pending by position, then given to the invocation the stream's last
  state before them says is open, if that state is stored already;
- a state that leaves an invocation open: stored, then it claims the pending lines after it
  (up to the stream's next state).

Write first, read second, on both sides: when two sandboxes take the two batches at the same
moment, at least one of them sees the other's write, so the lines are never lost; when both
see it, both write the same keyed lines, which the store takes once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hoptrace_collector.store.base import Store
from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.streamstate import StreamState


def place_alone(store: Store, log_group: str, lines: Sequence[LogLine]) -> list[LogLine]:
    """Pend `lines` (one stream, request id ""); return them attributed when their invocation is known."""
    store.write_pending_lines(log_group, lines)
    first = lines[0]
    state = store.stream_state(log_group, first.log_stream, (first.time_ns, first.event_id))
    if state is None or state.request_id is None:
        return []
    return [replace(line, request_id=state.request_id) for line in lines]


def claim_pending(store: Store, state: StreamState) -> list[LogLine]:
    """Store `state`; return the pending lines it opens the invocation of, attributed."""
    store.write_stream_state(state)
    if state.request_id is None:
        return []
    following = store.stream_state(state.log_group, state.log_stream, state.position, after=True)
    lines = store.pending_lines(state.log_group, state.log_stream, state.position,
                                following.position if following else None)
    return [replace(line, request_id=state.request_id) for line in lines]
