"""DynamoDB write throughput against moto's server, and what the writes would cost on AWS.

Every call the store makes goes through `Meter`, which adds up the capacity units DynamoDB
would bill for it, from the real items the store sends: a write costs one unit per started
KB of the item (and of each index entry it creates or moves), a strongly consistent read one
unit per started 4 KB, an eventually consistent one half that. Prices are on-demand
(us-east-1): $1.25 per million write units, $0.25 per million read units, $0.25 per GB-month.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

WRITE_PRICE = 1.25 / 1_000_000
READ_PRICE = 0.25 / 1_000_000
STORAGE_PRICE_GB_MONTH = 0.25
INDEX_ATTRIBUTES = ("g1pk", "g1sk", "end", "status", "cold", "inv", "outcome", "queue")
ITEM_OVERHEAD = 100  # bytes DynamoDB adds per item (and per index entry) for storage


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value, by DynamoDB's rules (numbers: ~1 byte per 2 digits + 1)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(inner.lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    return len(str(inner))


def item_size(item: dict[str, Any], names: tuple[str, ...] | None = None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in item.items() if names is None or k in names)


def _kind(item: dict[str, Any]) -> str:
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    return {"S#": "span", "K#": "trace key", "F#": "invocation", "M#": "dlq message"}.get(
        sk[:2], "trace summary" if sk == "#" else "request link" if pk.startswith("R#") else "resource/registry")


@dataclass
class Meter:
    """Wraps a boto3 DynamoDB client; counts the capacity units and item sizes of what passes."""

    client: Any
    write_units: float = 0.0
    read_units: float = 0.0
    sizes: dict[str, list[int]] = field(default_factory=dict)
    units_by_kind: dict[str, float] = field(default_factory=dict)

    def _count(self, kind: str, units: float) -> None:
        self.write_units += units
        self.units_by_kind[kind] = self.units_by_kind.get(kind, 0) + units

    def _put(self, item: dict[str, Any]) -> None:
        size = item_size(item)
        kind = _kind(item)
        self.sizes.setdefault(kind, []).append(size)
        self._count(kind, math.ceil(size / 1024))
        if "g1pk" in item:  # the index entry: keys, projected attributes
            self._count(kind + " index entry", math.ceil(item_size(item, ("pk", "sk", *INDEX_ATTRIBUTES)) / 1024))

    def batch_write_item(self, **kwargs: Any) -> Any:
        for requests in kwargs["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    self._put(request["PutRequest"]["Item"])
                else:
                    self._count("delete", 1)
        return self.client.batch_write_item(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        self._put(kwargs["Item"])
        return self.client.put_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self._count("registry update", 1)
        return self.client.update_item(**kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        response = self.client.batch_get_item(**kwargs)
        for table, items in response.get("Responses", {}).items():
            consistent = kwargs["RequestItems"][table].get("ConsistentRead", False)
            for item in items:
                self.read_units += math.ceil(item_size(item) / 4096) * (1 if consistent else 0.5)
        return response

    def query(self, **kwargs: Any) -> Any:
        response = self.client.query(**kwargs)
        size = sum(item_size(i) for i in response.get("Items", []))
        self.read_units += max(1, math.ceil(size / 4096)) * (1 if kwargs.get("ConsistentRead") else 0.5)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def run(spans: int, log: Any) -> dict[str, Any]:
    """Ingest about `spans` spans from subscription payloads into a fresh table on moto's server."""
    import os

    from benchmarks.collector_data import subscription_batches
    from hoptrace_collector.ingest.batch import Ingestor
    from hoptrace_collector.store.dynamodb import DynamoStore
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS, MotoServer

    os.environ.update({k: os.environ.get(k, v) for k, v in DUMMY_CREDENTIALS.items()})
    events, total = subscription_batches(spans, seed=7, start_ns=time.time_ns() - 600 * 10**9)
    server = MotoServer()
    endpoint = server.start()
    try:
        store = DynamoStore.from_url(f"dynamodb://bench-{uuid.uuid4().hex[:8]}?region=us-east-1"
                                     f"&endpoint_url={endpoint}&create=1")
        meter = Meter(store.io.client)
        store.io.client = meter
        ingestor = Ingestor(store)
        log(f"  DynamoDB on moto: {total} spans in {len(events)} batches ...")
        started = time.perf_counter()
        for event in events:
            ingestor.ingest(event)
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    return summarise(meter, total, seconds)


def summarise(meter: Meter, spans: int, seconds: float) -> dict[str, Any]:
    per_million = 1_000_000 / spans
    stored = sum(size + ITEM_OVERHEAD for sizes in meter.sizes.values() for size in sizes)
    index_bytes = sum(ITEM_OVERHEAD + 120 for kind in ("span", "trace key", "invocation")
                      for _ in meter.sizes.get(kind, ()))
    gb_per_million = (stored + index_bytes) * per_million / 1e9
    return {
        "spans": spans, "seconds": seconds, "spans_per_s": spans / seconds,
        "item_bytes": {kind: round(sum(v) / len(v)) for kind, v in sorted(meter.sizes.items())},
        "write_units_per_span": meter.write_units / spans, "read_units_per_span": meter.read_units / spans,
        "write_units_per_span_by_kind": {k: round(v / spans, 3) for k, v in sorted(meter.units_by_kind.items())},
        "write_cost_per_million": meter.write_units * per_million * WRITE_PRICE,
        "read_cost_per_million": meter.read_units * per_million * READ_PRICE,
        "storage_gb_per_million": gb_per_million,
        "storage_cost_per_million_month": gb_per_million * STORAGE_PRICE_GB_MONTH,
    }
