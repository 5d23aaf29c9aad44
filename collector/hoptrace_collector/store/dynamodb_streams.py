"""The DynamoDB store's log stream states and pending lines (see `streamstate`): one partition per stream.

| item | pk | sk |
|---|---|---|
| stream state | `LS#["<log group>","<log stream>"]` | `W#<position>` |
| pending lines of one batch | same | `P#<position of its first line>` |

Keys come from positions, so a redelivered batch rewrites the same items. "The state just
before / after a position" is one Query of at most two items; pending lines between two
positions one Query (a batch's pending lines hold no mark, so an item lies wholly on one side
of any state). Reads are strongly consistent: a sandbox sees what another wrote a moment before.
`t` lets the explicit retention scan find the items; `expires` is the TTL of every item.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hoptrace_collector.store.dynamodb_io import DynamoCalls
from hoptrace_collector.store.dynamodb_items import with_ttl
from hoptrace_collector.store.dynamodb_logs import MAX_ITEM_CHARS
from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.streamstate import Position, StreamState, position_key

PREFIX = "LS#"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _pk(log_group: str, log_stream: str) -> dict[str, str]:
    return {"S": PREFIX + _dumps([log_group, log_stream])}


def write_state(io: DynamoCalls, state: StreamState, ttl_days: float) -> None:
    item = {"pk": _pk(state.log_group, state.log_stream), "sk": {"S": "W#" + position_key(state.position)},
            "t": {"N": str(state.time_ns)}, "e": {"S": state.event_id}}
    if state.request_id is not None:
        item["r"] = {"S": state.request_id}
    io.call("put_item", TableName=io.table, Item=with_ttl(item, state.time_ns, ttl_days))


def _between(io: DynamoCalls, log_group: str, log_stream: str, low: str, high: str, forward: bool = True,
             limit: int | None = None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi", "ConsistentRead": True,
                             "ScanIndexForward": forward, "ExpressionAttributeValues": {
                                 ":p": _pk(log_group, log_stream), ":lo": {"S": low}, ":hi": {"S": high}}}
    if limit:
        query["Limit"] = limit
    items = []
    for item in io.query(**query):
        items.append(item)
        if limit and len(items) >= limit:
            break
    return items


def state(io: DynamoCalls, log_group: str, log_stream: str, position: Position, after: bool) -> StreamState | None:
    key = "W#" + position_key(position)
    low, high = (key, "W$") if after else ("W#", key)
    for item in _between(io, log_group, log_stream, low, high, forward=after, limit=2):
        if item["sk"]["S"] != key:
            return StreamState(log_group, log_stream, item["r"]["S"] if "r" in item else None, int(item["t"]["N"]),
                               item["e"]["S"])
    return None


def write_pending(io: DynamoCalls, log_group: str, lines: Sequence[LogLine], ttl_days: float) -> None:
    """One item per batch of lines alone (more when they pass `MAX_ITEM_CHARS`), keyed by its first line."""
    chunks: list[list[LogLine]] = []
    size = MAX_ITEM_CHARS
    for line in lines:
        if size + len(line.message) > MAX_ITEM_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line.message) + 100
    for chunk in chunks:
        first = chunk[0]
        rows = [[x.time_ns, x.event_id, x.level, x.message, x.trace_id, x.span_id] for x in chunk]
        item = {"pk": _pk(log_group, first.log_stream),
                "sk": {"S": "P#" + position_key((first.time_ns, first.event_id))},
                "t": {"N": str(first.time_ns)}, "f": {"S": first.function}, "lines": {"S": _dumps(rows)}}
        io.call("put_item", TableName=io.table, Item=with_ttl(item, first.time_ns, ttl_days))


def pending(io: DynamoCalls, log_group: str, log_stream: str, after: Position,
            until: Position | None) -> list[LogLine]:
    high = "P#" + position_key(until) if until is not None else "P$"
    lines = []
    for item in _between(io, log_group, log_stream, "P#" + position_key(after), high):
        function = item["f"]["S"]
        for time_ns, event_id, level, message, trace_id, span_id in json.loads(item["lines"]["S"]):
            if after < (time_ns, event_id) and (until is None or (time_ns, event_id) < until):
                lines.append(LogLine(function, "", time_ns, event_id, message, level, log_stream, trace_id, span_id))
    return lines
