"""DynamoDB writes and reads of the real collector against moto's server, priced as DynamoDB would bill them.

Every call the store makes goes through `Meter`, which adds up the capacity units DynamoDB
would bill for it, from the real items the store sends: a write costs one unit per started
KB of the item (a conditional put that fails still costs its units), a strongly consistent read
one unit per started 4 KB of each item (a Query: of all the items it returns together), an
eventually consistent one half that. Prices are on-demand, us-east-1, as of 2026-11 (they were
halved on 2024-11-01): $0.625 per million write request units, $0.125 per million read request
units, $0.25 per GB-month.

Measured per invocation, on the realistic workload (benchmarks/collector_data.py: traces of 5-15
spans over 2-4 functions, `app` application lines per invocation, CloudWatch subscription batches
of `events_per_batch` log events): write and read units by item kind, item sizes, the collector's
CPU time and its round trips. Then the dashboard's reads on the same table: the Traces page (newest
100), one trace with its log lines, the Overview's function stats, the alerts' platform deaths.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

WRITE_PRICE = 0.625 / 1_000_000
READ_PRICE = 0.125 / 1_000_000
STORAGE_PRICE_GB_MONTH = 0.25
ITEM_OVERHEAD = 100  # bytes DynamoDB adds per item for storage


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value, by DynamoDB's rules (numbers: ~1 byte per 2 digits + 1)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
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


def item_size(item: dict[str, Any]) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in item.items())


def kind_of(item: dict[str, Any]) -> str:
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if pk.startswith("P#"):
        return "listing page"
    if pk.startswith("T#"):
        return "span group"
    if pk.startswith("R#"):
        return "request" if sk.startswith("F#") else "log overflow"
    if pk.startswith("Q#"):
        return "dlq message"
    if pk.startswith("L#"):
        return "link key"
    return "layout/registry"


@dataclass
class Meter:
    """Wraps a boto3 DynamoDB client; counts the capacity units and item sizes of what passes."""

    client: Any
    write_units: float = 0.0
    read_units: float = 0.0
    calls: int = 0
    sizes: dict[str, list[int]] = field(default_factory=dict)
    units_by_kind: dict[str, float] = field(default_factory=dict)
    function_page_bytes: int = 0  # pages under f:/b: keys, what function stats and invocation lists read

    def _put(self, item: dict[str, Any]) -> None:
        size = item_size(item)
        kind = kind_of(item)
        self.sizes.setdefault(kind, []).append(size)
        self._write(kind, math.ceil(size / 1024))
        if kind == "listing page" and item["pk"]["S"][2:4] in ("f:", "b:"):
            self.function_page_bytes += size

    def _write(self, kind: str, units: float) -> None:
        self.write_units += units
        self.units_by_kind[kind] = self.units_by_kind.get(kind, 0) + units

    def _read(self, size: int, consistent: bool) -> None:
        self.read_units += max(1, math.ceil(size / 4096)) * (1 if consistent else 0.5)

    def batch_write_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        for requests in kwargs["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    self._put(request["PutRequest"]["Item"])
                else:
                    self._write("delete", 1)
        return self.client.batch_write_item(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        self._put(kwargs["Item"])
        return self.client.put_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        self._write("registry update", 1)
        return self.client.update_item(**kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        response = self.client.get_item(**kwargs)
        self._read(item_size(response.get("Item", {})), kwargs.get("ConsistentRead", False))
        return response

    def batch_get_item(self, **kwargs: Any) -> Any:
        self.calls += 1
        response = self.client.batch_get_item(**kwargs)
        for table, request in kwargs["RequestItems"].items():
            items = response.get("Responses", {}).get(table, [])
            consistent = request.get("ConsistentRead", False)
            for item in items:
                self._read(item_size(item), consistent)
            for _missing in range(len(request["Keys"]) - len(items)):  # a key not found still costs a read
                self._read(0, consistent)
        return response

    def query(self, **kwargs: Any) -> Any:
        self.calls += 1
        response = self.client.query(**kwargs)
        self._read(sum(item_size(i) for i in response.get("Items", [])), kwargs.get("ConsistentRead", False))
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def ingest(endpoint: str, spans: int, events_per_batch: int, app: int, seed: int = 7,
           handler: bool = False, compress: bool = False) -> dict[str, Any]:
    """Ingest about `spans` spans into a fresh table; metered writes, reads, CPU and round trips per batch.

    `handler`: through the real Lambda handler (configured only by HOPTRACE_STORE, as the stack runs it)
    rather than an Ingestor on the store. `compress`: the functions write compressed span lines.
    """
    from benchmarks.collector_data import subscription_batches
    from hoptrace_collector.ingest.batch import Ingestor
    from hoptrace_collector.store.dynamodb import DynamoStore

    start_ns = time.time_ns() - 600 * 10**9
    events, _ = subscription_batches(spans, seed=seed, start_ns=start_ns, events_per_batch=events_per_batch,
                                     app=app, compress=compress)
    url = f"dynamodb://bench-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={endpoint}&create=1"
    if handler:
        import hoptrace_collector.handler as collector

        os.environ["HOPTRACE_STORE"] = url
        collector.reset()
        ingestor = collector.ingestor()
        store = ingestor.store
        run = collector.handler
    else:
        store = DynamoStore.from_url(url)
        ingestor = Ingestor(store)
        run = ingestor.ingest
    assert isinstance(store, DynamoStore)
    meter = Meter(store.io.client)
    store.io.client = meter
    run(events[0])  # warm: the first batch also checks the table's layout
    meter.write_units = meter.read_units = meter.calls = meter.function_page_bytes = 0
    meter.sizes.clear()
    meter.units_by_kind.clear()
    store.io.waits = 0
    invocations = spans_written = log_lines = 0
    cpu = time.process_time()
    wall = time.perf_counter()
    for event in events[1:]:
        summary = run(event)
        invocations += summary.get("invocations_written", 0)
        spans_written += summary.get("spans_written", 0)
        log_lines += summary.get("log_lines_written", 0)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    batches = len(events) - 1
    result = {"store": store, "meter": meter, "spans": spans_written, "invocations": invocations,
              "log_lines": log_lines, "batches": batches, "cpu_s_per_batch": cpu / batches,
              "waits_per_batch": store.io.waits / batches, "calls_per_batch": meter.calls / batches,
              "seconds": wall, "write_units": meter.write_units, "read_units": meter.read_units,
              "units_by_kind": dict(meter.units_by_kind),
              "item_bytes": {k: round(sum(v) / len(v)) for k, v in sorted(meter.sizes.items())},
              "stored_bytes": sum(s + ITEM_OVERHEAD for v in meter.sizes.values() for s in v),
              "function_page_bytes": meter.function_page_bytes}
    if handler:
        collector.reset()
    return result


def dashboard_reads(store: Any, meter: Meter, invocations: int) -> dict[str, float]:
    """Read units of the dashboard's views on the ingested table (function stats per invocation in range)."""
    from hoptrace_collector.store import TraceFilter

    def units(call: Any) -> float:
        before = meter.read_units
        call()
        return meter.read_units - before

    now = time.time_ns()
    newest = store.list_traces(TraceFilter(limit=100))
    trace = newest[0].trace_id

    def open_trace() -> None:
        spans = store.get_trace(trace)
        store.invocation_logs([(s.function, s.request_id) for s in spans if s.request_id])

    return {
        "traces page (newest 100)": units(lambda: store.list_traces(TraceFilter(limit=100))),
        "one trace with its log lines": units(open_trace),
        "function stats of everything stored": units(lambda: store.function_stats(
            since_ns=now - 3600 * 10**9, until_ns=now + 1, bucket_s=60)),
        "platform deaths of every function": units(lambda: store.invocations(outcomes=["timeout", "crash", "oom"])),
    }


def run(spans: int, log: Any, events_per_batch: int = 400, app: int = 4, reads: bool = False) -> dict[str, Any]:
    """Ingest about `spans` spans into a fresh table on moto's server; what it would cost per invocation.

    `reads`: also measure the dashboard's reads (benchmarks/aws_cost.py does; `hoptrace bench collector` not).
    """
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS, MotoServer

    os.environ.update({k: os.environ.get(k, v) for k, v in DUMMY_CREDENTIALS.items()})
    server = MotoServer()
    endpoint = server.start()
    try:
        log(f"  DynamoDB on moto: ~{spans} spans, {app} log lines per invocation, "
            f"{events_per_batch} log events per batch ...")
        measured = ingest(endpoint, spans, events_per_batch, app)
        views = dashboard_reads(measured["store"], measured["meter"], measured["invocations"]) if reads else {}
        measured["store"].close()
    finally:
        server.stop()
    return summarise(measured, views)


def summarise(m: dict[str, Any], reads: dict[str, float]) -> dict[str, Any]:
    invocations = max(m["invocations"], 1)
    per_million = 1_000_000 / invocations
    gb_per_million = m["stored_bytes"] * per_million / 1e9
    return {
        "spans": m["spans"], "invocations": invocations, "batches": m["batches"],
        "spans_per_invocation": m["spans"] / invocations, "log_lines_per_invocation": m["log_lines"] / invocations,
        "invocations_per_batch": invocations / m["batches"], "seconds": m["seconds"],
        "spans_per_s": m["spans"] / m["seconds"],
        "item_bytes": m["item_bytes"],
        "write_units_per_invocation": m["write_units"] / invocations,
        "read_units_per_invocation": m["read_units"] / invocations,
        "write_units_per_span": m["write_units"] / max(m["spans"], 1),
        "write_units_per_invocation_by_kind": {k: round(v / invocations, 3) for k, v in
                                               sorted(m["units_by_kind"].items())},
        "write_cost_per_million": m["write_units"] * per_million * WRITE_PRICE,
        "read_cost_per_million": m["read_units"] * per_million * READ_PRICE,
        "storage_gb_per_million": gb_per_million,
        "storage_cost_per_million_month": gb_per_million * STORAGE_PRICE_GB_MONTH,
        "cpu_s_per_batch": m["cpu_s_per_batch"], "waits_per_batch": m["waits_per_batch"],
        "calls_per_batch": m["calls_per_batch"], "dashboard_read_units": reads,
        "function_page_bytes_per_invocation": m["function_page_bytes"] / invocations,
    }
