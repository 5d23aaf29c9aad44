"""A write and the stream record it caused show as one flow, opened from either trace."""

from __future__ import annotations

from pathlib import Path

from hoptrace_collector.store import SpanRecord, open_store
from hoptrace_dashboard import flow, queries

NOW = 1_795_593_398_000_000_000
MS = 1_000_000
KEY = "dynamodb:0123456789abcdef01234567"
WRITER, READER = "6759e988" + "1" * 24, "6759e988" + "2" * 24


def spans() -> list[SpanRecord]:
    def make(trace: str, span: str, parent: str | None, name: str, kind: str, start: int, **kw) -> SpanRecord:
        return SpanRecord(trace_id=trace, span_id=span, parent_id=parent, name=name, kind=kind,
                          start_ns=NOW + start * MS, end_ns=NOW + (start + 5) * MS, status="ok", **kw)

    return [
        make(WRITER, "a" * 16, None, "POST /orders", "server", 0, function="orders", service="orders",
             request_id="r1", trigger="apigateway", attributes={"hoptrace.trigger": "apigateway"}),
        make(WRITER, "b" * 16, "a" * 16, "DynamoDB.PutItem", "client", 1, function="orders", service="orders",
             attributes={"rpc.service": "DynamoDB", "rpc.method": "PutItem", "aws.dynamodb.table_names": ["orders"],
                         "hoptrace.link.produced": [KEY]}),
        make(READER, "c" * 16, None, "process orders", "consumer", 50, function="analytics", service="analytics",
             request_id="r2", trigger="dynamodb",
             attributes={"hoptrace.trigger": "dynamodb", "messaging.destination.name": "orders"}),
        make(READER, "d" * 16, "c" * 16, "process orders", "consumer", 51, function="analytics",
             service="analytics", attributes={"messaging.operation.type": "process", "messaging.system": "aws_dynamodb",
                                              "messaging.destination.name": "orders",
                                              "hoptrace.link.consumed": [KEY]}),
    ]


def test_stream_consumer_hangs_under_the_write_that_caused_it(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.write(spans())
    for opened in (WRITER, READER):
        # WHEN either trace is opened
        rebuilt = flow.build(queries.trace_spans(store, opened))
        assert rebuilt is not None
        # THEN both functions are in one tree: the consumer's invocation under the PutItem span
        rows = rebuilt.rows.set_index("span_id")
        assert rows.loc["c" * 16, "parent_id"] == "b" * 16
        assert rows.loc["c" * 16, "depth"] == 2
        assert list(rebuilt.hops["hop"]) == ["API Gateway", "DynamoDB Streams"]
        assert rebuilt.services == ["orders", "analytics"]
    store.close()


def test_a_trace_without_links_is_unchanged(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    store.write(spans()[:2])
    assert queries.trace_spans(store, WRITER) == store.get_trace(WRITER)
    store.close()


def test_the_service_map_joins_writer_table_and_consumer() -> None:
    from hoptrace_dashboard.queries import _edges_of

    edges = {(a.key, b.key) for span in spans() for a, b, _kind, _wait in _edges_of(span)}
    assert ("function:orders", "table:orders") in edges
    assert ("table:orders", "function:analytics") in edges
