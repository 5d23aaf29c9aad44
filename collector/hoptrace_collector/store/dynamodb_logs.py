"""The DynamoDB store's overflow log lines: what an invocation logged past what its request item holds.

An invocation's lines normally live in its request item (dynamodb_items.Request), written with
its platform record in one write unit. Lines past `MAX_LOG_BYTES` there go into these items, in
the request's partition (`R#<request id>`), so one Query still reads everything:

| item | pk | sk |
|---|---|---|
| log lines | `R#<request id>` | `L#<function>#<first event id>` |

The sort key comes from the lines themselves, so a redelivered batch rewrites the same item;
lines seen twice from different batch boundaries are merged on read. An item holds at most
`MAX_ITEM_CHARS` of JSON (DynamoDB's item limit is 400 KB): more lines go into further items.
`t` (first line's time) lets the explicit retention scan find it; `expires` is the TTL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hoptrace_collector.store.dynamodb_io import DynamoCalls
from hoptrace_collector.store.dynamodb_items import decode_lines, with_ttl
from hoptrace_collector.store.loglines import InvocationKey, LogLine, in_order

MAX_ITEM_CHARS = 300_000
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _row(line: LogLine) -> list[Any]:
    return [line.time_ns, line.event_id, line.level, line.message, line.log_stream, line.trace_id, line.span_id]


def items(lines: Sequence[LogLine], ttl_days: float) -> list[dict[str, Any]]:
    """The items holding `lines`, grouped per invocation and cut to fit."""
    grouped: dict[InvocationKey, list[LogLine]] = {}
    for line in lines:
        grouped.setdefault((line.function, line.request_id), []).append(line)
    out = []
    for (function, request_id), group in grouped.items():
        chunk: list[list[Any]] = []
        size = 0
        for line in in_order(group):
            row = _row(line)
            row_size = len(_dumps(row)) + 1
            if chunk and size + row_size > MAX_ITEM_CHARS:
                out.append(_item(function, request_id, chunk, ttl_days))
                chunk, size = [], 0
            chunk.append(row)
            size += row_size
        if chunk:
            out.append(_item(function, request_id, chunk, ttl_days))
    return out


def _item(function: str, request_id: str, rows: list[list[Any]], ttl_days: float) -> dict[str, Any]:
    first_time, first_id = rows[0][0], rows[0][1]
    item = {"pk": {"S": "R#" + request_id}, "sk": {"S": f"L#{function}#{first_id}"},
            "t": {"N": str(first_time)}, "lines": {"S": _dumps(rows)}}
    return with_ttl(item, first_time, ttl_days)


def from_item(function: str, request_id: str, item: dict[str, Any]) -> list[LogLine]:
    """The lines of one overflow item."""
    return [LogLine(function, request_id, time_ns, event_id, message, level, stream, trace_id, span_id)
            for time_ns, event_id, level, message, stream, trace_id, span_id in json.loads(item["lines"]["S"])]


def read(io: DynamoCalls, keys: Sequence[InvocationKey]) -> list[LogLine]:
    """Every line of these invocations: their request items' and their overflow items'."""
    lines: list[LogLine] = []
    for function, request_id in dict.fromkeys(keys):
        for item in io.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={
                ":p": {"S": "R#" + request_id}}):
            sk = item["sk"]["S"]
            if sk == "F#" + function:
                lines.extend(decode_lines(function, request_id, item))
            elif sk.startswith(f"L#{function}#"):
                lines.extend(from_item(function, request_id, item))
    return in_order(lines)
