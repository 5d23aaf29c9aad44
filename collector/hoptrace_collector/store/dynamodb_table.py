"""The DynamoDB table of the `dynamodb://` store: one definition for tests, `create=1` and the SAM template.

Single-table design (on-demand billing; all keys strings except `g1sk`):

| item | pk | sk | by_time index (g1pk / g1sk) |
|---|---|---|---|
| span | `T#<trace id>` | `S#<span id>` | `S#<function>#<day>#<shard>` / start ns |
| trace summary | `T#<trace id>` | `#` | — |
| trace listing key | `T#<trace id>` | `K#<key>` | `T#<key>#<day>#<shard>` / trace start ns |
| invocation | `R#<request id>` | `F#<function>` | `I#<function>#<day>#<shard>` / time ns |
| request → trace | `R#<request id>` | `T#<trace id>` | — |
| DLQ message | `Q#<queue>` | `M#<message id>` | `Q#<day>` / first seen ns |
| resource | `RES#<hash>` | `R` | — |
| function | `FN` | `<function>` | — |

- A trace is listed under the keys `*` (all), `s:<service>` and `f:<function>` of its spans.
- A trace and all its spans share one partition, so `get_trace` is one Query.
- "Latest traces of a service" reads the `by_time` index partition of that service and UTC day
  (`<day>` = days since the epoch), newest first, day by day backwards; `<shard>` (0 to 3, from
  the id) spreads one busy service or function over four index partitions so no partition
  key takes more than ~1,000 writes/s. Readers merge the four shards.
- The index projects only the few attributes filters need (`INCLUDE`); whole items are read
  with BatchGetItem, so index entries stay small (one write unit each).
- `expires` (epoch seconds = item time + ttl_days) is the TTL attribute: DynamoDB deletes
  old items for free, in the background.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

INDEX = "by_time"
TTL_ATTRIBUTE = "expires"
SHARDS = 4
DAY_NS = 86_400 * 1_000_000_000
SUMMARY_SK = "#"

#: `create_table` keyword arguments (boto3), also what a SAM/CloudFormation
#: `AWS::DynamoDB::Table` needs (same property names; add
#: `TimeToLiveSpecification: {AttributeName: expires, Enabled: true}` there).
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "g1pk", "AttributeType": "S"},
        {"AttributeName": "g1sk", "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [{
        "IndexName": INDEX,
        "KeySchema": [
            {"AttributeName": "g1pk", "KeyType": "HASH"},
            {"AttributeName": "g1sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "INCLUDE",
                       "NonKeyAttributes": ["end", "status", "cold", "inv", "outcome", "queue"]},
    }],
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


def span_key(trace_id: str, span_id: str) -> dict[str, Any]:
    return {"pk": {"S": "T#" + trace_id}, "sk": {"S": "S#" + span_id}}


def summary_key(trace_id: str) -> dict[str, Any]:
    return {"pk": {"S": "T#" + trace_id}, "sk": {"S": SUMMARY_SK}}


def invocation_key(function: str, request_id: str) -> dict[str, Any]:
    return {"pk": {"S": "R#" + request_id}, "sk": {"S": "F#" + function}}


def dlq_key(queue: str, message_id: str) -> dict[str, Any]:
    return {"pk": {"S": "Q#" + queue}, "sk": {"S": "M#" + message_id}}


def resource_key(digest: str) -> dict[str, Any]:
    return {"pk": {"S": "RES#" + digest}, "sk": {"S": "R"}}


def span_partition(function: str, day_number: int, shard_number: int) -> str:
    return f"S#{function}#{day_number}#{shard_number}"


def trace_partition(key: str, day_number: int, shard_number: int) -> str:
    return f"T#{key}#{day_number}#{shard_number}"


def invocation_partition(function: str, day_number: int, shard_number: int) -> str:
    return f"I#{function}#{day_number}#{shard_number}"


def dlq_partition(day_number: int) -> str:
    return f"Q#{day_number}"
