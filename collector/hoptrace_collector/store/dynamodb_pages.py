"""Listing pages: what a write adds to each listing, one compressed item per (key, day) and write.

The dashboard's lists (newest traces of a service, a function's cold starts and failures, its
invocations, the dead-letter queues) are read from pages instead of a secondary index: an index
costs a write unit per item written, a page one per subscription batch. A page holds entries:

- `g` span groups: `[trace id, group id, newest start, oldest start, flags, stats]` where flags
  has 1 for an error span and 2 for a cold start under the page's key, and `stats` (function keys
  only) the group's invocation spans `[span id, start, duration, flags, rank, stored at]`;
- `i` invocation records: `[request id, time, outcome]`;
- `q` dead-lettered messages: `[queue, message id, first seen]`.

An entry's time is its newest start (or time); a page's sort key starts with its newest entry's
time, so walking pages newest first and holding entries back until no unread page can hold a
newer one yields entries in exact time order. Readers treat entries as candidates and read the
items themselves (entries of rewritten items repeat; readers keep one per item).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from hoptrace_collector.store.dynamodb_io import DynamoCalls
from hoptrace_collector.store.dynamodb_table import SHARDS, day, page_partition, page_sort_key

GROUPS, INVOCATIONS, MESSAGES = "g", "i", "q"
MAX_ENTRIES = 1500  # per page: keeps the compressed page far under the 400 KB item limit
_TIME = {GROUPS: 2, INVOCATIONS: 1, MESSAGES: 2}
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def items(entries: dict[str, dict[str, list[list[Any]]]], expires: Callable[[dict[str, Any], int], dict[str, Any]]
          ) -> list[dict[str, Any]]:
    """Page items for `{key: {section: [entry, ...]}}`, one per key, day and MAX_ENTRIES entries."""
    out = []
    for key, sections in entries.items():
        by_day: dict[int, dict[str, list[list[Any]]]] = {}
        for section, rows in sections.items():
            for row in rows:
                by_day.setdefault(day(row[_TIME[section]]), {}).setdefault(section, []).append(row)
        for day_number, day_sections in by_day.items():
            flat = [(section, row) for section, rows in sorted(day_sections.items()) for row in sorted(rows)]
            for start in range(0, len(flat), MAX_ENTRIES):
                chunk: dict[str, list[list[Any]]] = {}
                for section, row in flat[start:start + MAX_ENTRIES]:
                    chunk.setdefault(section, []).append(row)
                out.append(_item(key, day_number, chunk, expires))
    return out


def _item(key: str, day_number: int, sections: dict[str, list[list[Any]]],
          expires: Callable[[dict[str, Any], int], dict[str, Any]]) -> dict[str, Any]:
    body = _dumps(sections).encode()
    digest = hashlib.blake2b(body, digest_size=6).hexdigest()
    times = [row[_TIME[s]] for s, rows in sections.items() for row in rows]
    item = {"pk": {"S": page_partition(key, day_number, int(digest, 16) % SHARDS)},
            "sk": {"S": page_sort_key(max(times), digest)}, "z": {"B": zlib.compress(body, 6)},
            "t": {"N": str(min(times))}}
    return expires(item, max(times))


def body(item: dict[str, Any]) -> dict[str, list[list[Any]]]:
    return json.loads(zlib.decompress(item["z"]["B"]))


def rewritten(item: dict[str, Any], sections: dict[str, list[list[Any]]]) -> dict[str, Any]:
    """The same page (same key: its sort key still bounds its entries) holding only `sections`."""
    times = [row[_TIME[s]] for s, rows in sections.items() for row in rows]
    return {**item, "z": {"B": zlib.compress(_dumps(sections).encode(), 6)}, "t": {"N": str(min(times))}}


def entries(io: DynamoCalls, partitions: Callable[[int], list[str]], days: Iterable[int], section: str,
            low: int, high: int, page: int = 25) -> Iterator[tuple[int, list[Any]]]:
    """(time, entry) of `section` between low and high in the partitions of each day, newest first."""
    position = _TIME[section]
    for day_number in days:
        streams = [io.query(KeyConditionExpression="pk = :p AND sk >= :lo", ScanIndexForward=False, Limit=page,
                            ExpressionAttributeValues={":p": {"S": p}, ":lo": {"S": f"{max(low, 0):019d}"}})
                   for p in partitions(day_number)]
        held: list[tuple[int, int, list[Any]]] = []
        sequence = 0
        for item in heapq.merge(*streams, key=lambda i: -int(i["sk"]["S"][:19])):
            newest = int(item["sk"]["S"][:19])
            while held and -held[0][0] >= newest:
                time_ns, _, row = heapq.heappop(held)
                yield -time_ns, row
            for row in body(item).get(section, ()):
                if low <= row[position] <= high:
                    heapq.heappush(held, (-row[position], sequence, row))
                    sequence += 1
        while held:
            time_ns, _, row = heapq.heappop(held)
            yield -time_ns, row


def in_order(candidates: Iterator[tuple[int, Any]], resolve: Callable[[list[Any]], list[tuple[int, Any]]],
             chunk: int = 50) -> Iterator[Any]:
    """Records newest first, from candidate entries (newest first) that `resolve` turns into (time, record).

    A record's own time may be older than its entry's (an item rewritten since), never newer than its
    newest entry; so a resolved record is released once no unread entry is newer than it.
    """
    held: list[tuple[int, int, Any]] = []
    sequence = 0
    pending: tuple[int, Any] | None = next(candidates, None)
    while pending is not None or held:
        batch: list[Any] = []
        while pending is not None and len(batch) < chunk:
            batch.append(pending[1])
            pending = next(candidates, None)
        for time_ns, record in resolve(batch) if batch else ():
            heapq.heappush(held, (-time_ns, sequence, record))
            sequence += 1
        while held and (pending is None or -held[0][0] >= pending[0]):
            yield heapq.heappop(held)[2]
