"""What storing application log lines adds to the collector, per million invocations (side by side).

The same subscription payloads are ingested twice, interleaved round by round into fresh SQLite
files: once with only span and platform lines (the filter hoptrace used before), once with each
invocation's application lines too (`print` and `logging`, here 4 lines of ~90 bytes, what the demo's
functions write). Reported per million invocations: collector CPU seconds (→ Lambda GB-seconds at
512 MB), stored bytes, and DynamoDB write units (one log item per invocation and batch). CloudWatch
ingestion of those lines is paid with or without hoptrace, so it is not counted.

Run: `python -m benchmarks.logs_cost` (record `uptime` with the figure).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import tempfile
import time
import uuid

from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store

INVOCATIONS_PER_BATCH = 50
BATCHES = 40
ROUNDS = 3
LAMBDA_GB_S = 0.0000166667  # x86, per GB-second
COLLECTOR_GB = 0.5
DYNAMO_WRU = 0.625 / 1_000_000  # on-demand, per write request unit
DYNAMO_GB_MONTH = 0.25


def _batch(with_logs: bool, n: int) -> dict:
    events, t = [], 1_795_593_398_000 + n * 10_000
    for i in range(INVOCATIONS_PER_BATCH):
        rid = str(uuid.UUID(int=n * 1000 + i))
        lines = [f"START RequestId: {rid} Version: $LATEST"]
        if with_logs:
            lines += [f"[INFO]\t2026-12-01T10:00:00.000Z\t{rid}\tcharging order o-{n}-{i} for customer grace",
                      f"cannot charge message {rid}: order o-{n}-{i} has amount -12.5 (retry later)",
                      f"[WARNING]\t2026-12-01T10:00:00.010Z\t{rid}\tprovider answered 503, retrying once",
                      f"sent receipt for order o-{n}-{i} to grace@example.com in 41 ms"]
        lines += [f"END RequestId: {rid}", f"REPORT RequestId: {rid}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
                  "Memory Size: 128 MB\tMax Memory Used: 70 MB"]
        for line in lines:
            events.append({"id": f"{t:020d}{len(events):036d}", "timestamp": t, "message": line})
            t += 1
    doc = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/payments",
           "logStream": f"2026/12/01/[$LATEST]{n:032x}", "subscriptionFilters": ["hoptrace"], "logEvents": events}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(doc).encode())).decode()}}


def _run(with_logs: bool, payloads: list[dict]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "s.db")
        store = open_store(f"sqlite:///{path}")
        ingestor = Ingestor(store)
        started = time.process_time()
        for payload in payloads:
            ingestor.ingest(payload)
        cpu = time.process_time() - started
        store.close()
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    return cpu, size


def main() -> None:
    payloads = {flag: [_batch(flag, n) for n in range(BATCHES)] for flag in (False, True)}
    results: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for flag in (False, True):
            results[flag].append(_run(flag, payloads[flag]))
    invocations = INVOCATIONS_PER_BATCH * BATCHES
    per_million = 1_000_000 / invocations
    cpu = {f: sorted(c for c, _ in r)[len(r) // 2] * per_million for f, r in results.items()}
    size = {f: max(s for _, s in r) * per_million for f, r in results.items()}
    added_cpu, added_bytes = cpu[True] - cpu[False], size[True] - size[False]
    print(f"per million invocations (4 log lines each), load {os.getloadavg()[0]:.1f}:")
    print(f"  collector CPU: {cpu[False]:.0f} s without logs, {cpu[True]:.0f} s with (+{added_cpu:.0f} s = "
          f"${added_cpu * COLLECTOR_GB * LAMBDA_GB_S:.4f} of Lambda at {COLLECTOR_GB} GB)")
    print(f"  SQLite bytes: +{added_bytes / 1e6:.0f} MB")
    item_bytes = _dynamo_item_bytes(payloads[True][0])
    units = sum(-(-b // 1024) for b in item_bytes) / INVOCATIONS_PER_BATCH * 1_000_000
    stored = sum(item_bytes) / INVOCATIONS_PER_BATCH * 1_000_000
    print(f"  DynamoDB: {len(item_bytes) / INVOCATIONS_PER_BATCH:.0f} item per invocation and batch, "
          f"{sum(item_bytes) / len(item_bytes):.0f} B each: +{units:,.0f} write units (${units * DYNAMO_WRU:.3f}), "
          f"+{stored / 1e9:.2f} GB stored (${stored / 1e9 * DYNAMO_GB_MONTH:.3f} per month)")


def _dynamo_item_bytes(payload: dict) -> list[int]:
    """Sizes of the log items one batch writes (attribute names + values, as DynamoDB bills them)."""
    from hoptrace_collector.ingest.payload import decode_subscription
    from hoptrace_collector.ingest.problems import Problems
    from hoptrace_collector.store.dynamodb_logs import items

    class _Null:
        def write(self, *a: object, **k: object) -> object: ...

    ingestor = Ingestor(_Null())  # type: ignore[arg-type]
    decoded = ingestor.decode(decode_subscription(payload), Problems())
    return [sum(len(k) + len(next(iter(v.values()))) for k, v in item.items()) for item in items(decoded.logs, 30)]


if __name__ == "__main__":
    main()
