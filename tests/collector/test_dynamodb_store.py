"""What only the DynamoDB backend promises: its URL, its table definition, batching retries, concurrent writers."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import SpanRecord, StoreError, TraceFilter, open_store
from hoptrace_collector.store.dynamodb import DynamoStore
from hoptrace_collector.store.dynamodb_io import DynamoCalls
from hoptrace_collector.store.dynamodb_table import TABLE_SCHEMA, TTL_ATTRIBUTE, cloudformation_properties
from tests.collector.payloads import OK_HANDLER, REQUEST_ID, report_line, subscription_event, traced_lines
from tests.conftest import load_event


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS

    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dynamo_url(moto_endpoint: str, credentials: None) -> str:
    return f"dynamodb://spans-{uuid.uuid4().hex[:8]}?region=us-east-1&endpoint_url={moto_endpoint}&create=1"


@pytest.mark.parametrize(("url", "says"), [
    ("dynamodb://", "names no table"), ("dynamodb://t?colour=blue", "unknown option"),
    ("dynamodb://t?ttl_days=week", "must be numbers"),
])
def test_bad_urls(url: str, says: str) -> None:
    with pytest.raises(StoreError, match=says):
        open_store(url)


def test_missing_table_says_how_to_create_it(moto_endpoint: str, credentials: None) -> None:
    store = open_store(f"dynamodb://absent-{uuid.uuid4().hex[:6]}?region=us-east-1&endpoint_url={moto_endpoint}")
    with pytest.raises(StoreError, match="create=1"):
        store.get_trace("a" * 32)


def test_create_builds_the_documented_table(dynamo_url: str, aws: Any) -> None:
    store = open_store(dynamo_url)
    assert isinstance(store, DynamoStore)
    client = aws("dynamodb")
    table = client.describe_table(TableName=store.table)["Table"]
    assert table["KeySchema"] == TABLE_SCHEMA["KeySchema"]
    assert not table.get("GlobalSecondaryIndexes")  # layout 2: listings are pages, no index writes
    ttl = client.describe_time_to_live(TableName=store.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == TTL_ATTRIBUTE and ttl["TimeToLiveStatus"] == "ENABLED"
    props = cloudformation_properties("hoptrace-spans")
    assert props["TimeToLiveSpecification"]["AttributeName"] == TTL_ATTRIBUTE and "TableName" in props
    assert open_store(dynamo_url).functions() == []  # create=1 on an existing table is harmless


def test_items_expire_by_ttl(dynamo_url: str, aws: Any) -> None:
    store = open_store(dynamo_url + "&ttl_days=2")
    start = time.time_ns()
    store.write([SpanRecord("a" * 32, "b" * 16, None, "x", "server", start, start + 1, "ok", function="f")])
    item = aws("dynamodb").get_item(TableName=store.table, Key={"pk": {"S": "T#" + "a" * 32},
                                                                  "sk": {"S": "G#" + "b" * 16}})["Item"]
    assert int(item[TTL_ATTRIBUTE]["N"]) == start // 10**9 + 2 * 86_400


class FakeClient:
    """Answers batch calls like DynamoDB under pressure: throttles and hands back unprocessed work."""

    def __init__(self, throttles: int = 0, unprocessed_rounds: int = 0) -> None:
        self.throttles = throttles
        self.unprocessed_rounds = unprocessed_rounds
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        if self.throttles:
            self.throttles -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                              "BatchWriteItem")
        requests = RequestItems["t"]
        self.calls.append(len(requests))
        if self.unprocessed_rounds and len(requests) > 1:
            self.unprocessed_rounds -= 1
            return {"UnprocessedItems": {"t": requests[len(requests) // 2:]}}
        return {}


def items(n: int) -> list[dict[str, Any]]:
    return [{"pk": {"S": f"T#{i}"}, "sk": {"S": "S#1"}} for i in range(n)]


def test_unprocessed_items_are_retried_with_backoff() -> None:
    client, sleeps = FakeClient(unprocessed_rounds=3), []
    DynamoCalls(client, "t", sleep=sleeps.append).batch_write(items(60))
    assert client.calls[:2] == [25, 13] and sum(client.calls) == 60 + 13 + 7 + 4
    assert len(sleeps) == 3 and all(0 < s <= 2.0 for s in sleeps)


def test_throttling_is_retried_then_becomes_a_store_error() -> None:
    sleeps: list[float] = []
    DynamoCalls(FakeClient(throttles=3), "t", sleep=sleeps.append).batch_write(items(3))
    assert len(sleeps) == 3 and sleeps[2] >= sleeps[0] * 2 * 0.5  # exponential, with jitter
    with pytest.raises(StoreError, match="still throttled"):
        DynamoCalls(FakeClient(throttles=100), "t", max_attempts=4, sleep=lambda s: None).batch_write(items(3))


def test_duplicate_keys_in_one_batch_are_sent_once() -> None:
    client = FakeClient()
    DynamoCalls(client, "t").batch_write(items(3) + items(3))
    assert client.calls == [3]


def test_two_collectors_writing_one_trace_keep_every_count(dynamo_url: str) -> None:
    # GIVEN two collector processes (here: threads with their own store) writing spans of the same traces
    first, second = open_store(dynamo_url), open_store(dynamo_url)
    start = time.time_ns()

    def write(store: Any, offset: int) -> None:
        for batch in range(4):
            store.write([SpanRecord(f"{t + 1:032x}", f"{offset + batch * 10 + i + 1:016x}", None, "op", "server",
                                    start + i, start + 10, "error" if i == 0 else "ok", function=f"fn{offset}",
                                    service=f"fn{offset}")
                         for t in range(3) for i in range(3)])

    threads = [threading.Thread(target=write, args=(store, offset)) for store, offset in ((first, 0), (second, 500))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN each trace summary counts all 24 spans and 8 errors, and lists both functions' services
    for summary in first.list_traces(TraceFilter()):
        assert (summary.span_count, summary.error_count, summary.services) == (24, 8, ("fn0", "fn500"))


def test_collector_writes_to_dynamodb(dynamo_url: str) -> None:
    store = open_store(dynamo_url)
    lines = traced_lines(OK_HANDLER, load_event("apigateway_v1"))
    event = subscription_event([*lines, report_line(init=100.0)])
    first = Ingestor(store).ingest(event)
    again = Ingestor(store).ingest(event)
    assert first["spans_written"] >= 1 and again["spans_written"] == 0 and again["invocations_written"] == 0
    [summary] = store.list_traces(TraceFilter(function="orders"))
    assert summary.cold_starts == 1 and store.invocations()[0].init_ms == 100.0
    # the request is found through its invocation record (no separate link item was needed)
    assert store.list_traces(TraceFilter(request_id=REQUEST_ID)) == [summary]
