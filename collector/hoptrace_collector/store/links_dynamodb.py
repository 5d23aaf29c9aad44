"""The DynamoDB store's link-key items (see `links`): one partition per key, both sides in it.

`pk = L#<key>`, `sk = <role>#<trace id>#<span id>`, `t` = the span's start (so the retention
scan removes them with the spans) and the table's TTL attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hoptrace_collector.store.dynamodb_items import with_ttl
from hoptrace_collector.store.links import LinkKey

PREFIX = "L#"


def items(rows: Sequence[LinkKey], ttl_days: float) -> list[dict[str, Any]]:
    return [with_ttl({"pk": {"S": PREFIX + r.key}, "sk": {"S": f"{r.role}#{r.trace_id}#{r.span_id}"},
                      "t": {"N": str(r.start_ns)}}, r.start_ns, ttl_days) for r in rows]


def rows(io: Any, keys: Sequence[str]) -> list[LinkKey]:
    found = []
    for key in keys:
        for item in io.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={
                ":pk": {"S": PREFIX + key}}):
            role, trace_id, span_id = item["sk"]["S"].split("#", 2)
            found.append(LinkKey(key, role, trace_id, span_id, int(item["t"]["N"])))
    return found
