"""Producer -> consumer links in both stores: resolved whichever side arrives first, survive retention."""

from __future__ import annotations

from hoptrace_collector.store import Store
from hoptrace_collector.store.links import resolve, trace_links
from tests.collector.test_store_contract import span, tid

KEY = "dynamodb:0123456789abcdef01234567"


def writer(trace: int, start_ms: float = 0, key: str = KEY):
    return span(trace, 1, start_ms=start_ms, name="dynamodb.PutItem", kind="client",
                attributes={"hoptrace.link.produced": [key]})


def reader(trace: int, start_ms: float = 100):
    return span(trace, 2, start_ms=start_ms, name="process orders", kind="consumer",
                attributes={"hoptrace.link.consumed": [KEY, "dynamodb:ffffffffffffffffffffffff"]})


def test_a_consumer_stored_before_its_producer_links_once_the_producer_arrives(any_store: Store) -> None:
    # GIVEN the stream consumer's spans stored first
    any_store.write([reader(2)])
    assert trace_links(any_store, tid(2)) == []
    # WHEN the writer's spans arrive later
    any_store.write([writer(1)])
    # THEN both traces see the same link, from the writer's span to the reader's
    [link] = trace_links(any_store, tid(2))
    assert (link.producer_trace_id, link.consumer_trace_id) == (tid(1), tid(2))
    assert trace_links(any_store, tid(1)) == [link]


def test_the_latest_writer_before_the_read_wins(any_store: Store) -> None:
    any_store.write([writer(1, start_ms=0), writer(3, start_ms=50), writer(4, start_ms=500), reader(2)])
    [link] = trace_links(any_store, tid(2))
    assert link.producer_trace_id == tid(3)


def test_garbage_link_attributes_cost_only_themselves(any_store: Store) -> None:
    bad = span(5, 1, attributes={"hoptrace.link.produced": [None, 7, "x" * 10_000, {"a": 1}, KEY]})
    result = any_store.write([bad, reader(2), span(6, 1, attributes={"hoptrace.link.consumed": "not-a-list"})])
    assert result.spans_written == 3
    [link] = trace_links(any_store, tid(2))
    assert link.producer_trace_id == tid(5)


def test_retention_removes_link_keys_with_their_spans(any_store: Store) -> None:
    any_store.write([writer(1, start_ms=0), reader(2, start_ms=100)])
    any_store.delete_older_than(span(0, 0, start_ms=50).start_ns)
    assert trace_links(any_store, tid(2)) == []


def test_resolve_without_an_earlier_producer_takes_the_earliest() -> None:
    from hoptrace_collector.store.links import LinkKey

    rows = [LinkKey(KEY, "produced", "b", "2", 300), LinkKey(KEY, "produced", "a", "1", 200),
            LinkKey(KEY, "consumed", "c", "3", 100)]
    [link] = resolve(rows)
    assert link.producer_trace_id == "a"
