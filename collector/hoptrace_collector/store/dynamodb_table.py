"""The DynamoDB table of the `dynamodb://` store: one definition for tests, `create=1` and the SAM template.

Layout 2 (single table, on-demand billing, no secondary index): the store pays per invocation
and per batch, never per span. DynamoDB bills a write per started KB of each item and again for
each index entry, so the spans of one invocation travel as one compressed item, and the
listings the dashboard reads are a few items per subscription batch instead of index entries.

| item | pk | sk | holds |
|---|---|---|---|
| span group | `T#<trace id>` | `G#<group id>` | the spans of one trace a write brought (`z`: zlib JSON, preset dict) |
| request | `R#<request id>` | `F#<function>` | the invocation's platform record, trace ids, log lines |
| log overflow | `R#<request id>` | `L#<function>#<first event id>` | log lines past what the request item holds |
| listing page | `P#<key>#<day>#<shard>` | `<newest time, 19 digits>#<digest>` | a write's entries under `key` |
| DLQ message | `Q#<queue>` | `M#<message id>` | one dead-lettered message |
| link key | `L#<key>` | `<role>#<trace>#<span>` | see links_dynamodb |
| registry | `FN` / `FNI` / `DQ` | `<name>` | first and last day with data (dynamodb_registry) |
| layout | `META` | `layout` | `v` = 2: which layout the table holds |

- A span group's id is the smallest span id among the write's spans of that trace whose parent is
  not in the write (the invocation's own span, for the layer's lines), so the watchdog's pending
  line, the final line and the collector's platform-failure span of one invocation all land in
  the same item, and a redelivered batch rewrites the same keys. `get_trace` is one Query.
- Listing keys: `*` (every trace), `s:<service>`, `f:<function>`, `b:<name>` (service and function
  of the same name, the Lambda norm: one page instead of two), `q` (dead-letter queues). A page's sort
  key starts with the newest time among its entries, so readers walk pages newest first and emit
  entries in exact time order (dynamodb_pages). `<day>` = days since the epoch (UTC); `<shard>`
  (0-3, from the page's digest) keeps each partition key under DynamoDB's per-key write limit.
- `t` is an item's oldest time (the explicit retention scan); `expires` (epoch seconds = newest
  time + ttl_days) is the TTL attribute: DynamoDB deletes old items for free, in the background.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

LAYOUT = 2
TTL_ATTRIBUTE = "expires"
SHARDS = 4
DAY_NS = 86_400 * 1_000_000_000
META_KEY = {"pk": {"S": "META"}, "sk": {"S": "layout"}}

#: `create_table` keyword arguments (boto3), also what a SAM/CloudFormation
#: `AWS::DynamoDB::Table` needs (same property names; add
#: `TimeToLiveSpecification: {AttributeName: expires, Enabled: true}` there).
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def cloudformation_properties(table_name: str) -> dict[str, Any]:
    """`Properties` of an `AWS::DynamoDB::Table` resource for this store (for deploy/template.yaml)."""
    properties = copy.deepcopy(TABLE_SCHEMA)
    properties["TableName"] = table_name
    properties["TimeToLiveSpecification"] = {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    return properties


def create_table(client: Any, table_name: str, wait: bool = True) -> bool:
    """Create the table (and turn TTL on) unless it exists; True if it was created."""
    try:
        client.create_table(TableName=table_name, **copy.deepcopy(TABLE_SCHEMA))
    except client.exceptions.ResourceInUseException:
        return False
    if wait:
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(TableName=table_name,
                               TimeToLiveSpecification={"AttributeName": TTL_ATTRIBUTE, "Enabled": True})
    return True


def day(time_ns: int) -> int:
    return time_ns // DAY_NS


def shard(text: str) -> int:
    return zlib.crc32(text.encode()) % SHARDS


def group_key(trace_id: str, group_id: str) -> dict[str, Any]:
    return {"pk": {"S": "T#" + trace_id}, "sk": {"S": "G#" + group_id}}


def request_key(function: str, request_id: str) -> dict[str, Any]:
    return {"pk": {"S": "R#" + request_id}, "sk": {"S": "F#" + function}}


def dlq_key(queue: str, message_id: str) -> dict[str, Any]:
    return {"pk": {"S": "Q#" + queue}, "sk": {"S": "M#" + message_id}}


def page_partition(key: str, day_number: int, shard_number: int) -> str:
    return f"P#{key}#{day_number}#{shard_number}"


def page_sort_key(newest_ns: int, digest: str) -> str:
    return f"{max(newest_ns, 0):019d}#{digest}"
