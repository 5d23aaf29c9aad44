"""DynamoDB writes: the table and item keys a stream consumer will see again.

The producer does not know the table's key schema, so it keys each write by what it sent: the
whole `Item` of a put, the `Key` of an update or delete (single, batch and transactional). The
stream consumer offers digests of both `Keys` and `NewImage` (see `hoptrace.links`), and the
collector joins them. Only successful writes are recorded (this runs on the response), and
`UnprocessedItems` of a batch are left out.

boto3's resource API (`Table.put_item`) hands plain Python values to the client and serialises
them later, inside the call; they are serialised here the same way so both APIs link alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hoptrace import links, semconv

_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_TRANSACT = (("Put", "Item"), ("Update", "Key"), ("Delete", "Key"))


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    tables = sorted(_tables(operation, params))
    return {semconv.AWS_DYNAMODB_TABLE_NAMES: tables} if tables else {}


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    skipped = set(_batch_links(response.get("UnprocessedItems"))) if operation == "BatchWriteItem" else set()
    produced = []
    for table, attributes in _writes(operation, params):
        link = links.dynamodb_item(table, _attribute_values(attributes))
        if link is not None and link not in skipped and link not in produced:
            produced.append(link)
        if len(produced) >= links.MAX_KEYS:
            break
    return {semconv.LINK_PRODUCED: produced} if produced else {}


def _tables(operation: str, params: Mapping[str, Any]) -> set[str]:
    if isinstance(params.get("TableName"), str):
        return {links.table_name(params["TableName"])}
    requests = params.get("RequestItems")
    if isinstance(requests, Mapping):
        return {links.table_name(str(t)) for t in requests}
    return {links.table_name(t) for t, _ in _writes(operation, params)}


def _writes(operation: str, params: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(table, item-or-key) for every write the request makes."""
    table = params.get("TableName")
    if operation == "PutItem" and isinstance(table, str):
        yield table, params.get("Item")
    elif operation in ("UpdateItem", "DeleteItem") and isinstance(table, str):
        yield table, params.get("Key")
    elif operation == "BatchWriteItem":
        yield from _batch(params.get("RequestItems"))
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems") or ():
            for kind, field in _TRANSACT:
                write = entry.get(kind) if isinstance(entry, Mapping) else None
                if isinstance(write, Mapping) and isinstance(write.get("TableName"), str):
                    yield write["TableName"], write.get(field)


def _batch(requests: Any) -> Iterator[tuple[str, Any]]:
    if not isinstance(requests, Mapping):
        return
    for table, entries in requests.items():
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, Mapping):
                continue
            put, delete = entry.get("PutRequest"), entry.get("DeleteRequest")
            if isinstance(put, Mapping):
                yield str(table), put.get("Item")
            elif isinstance(delete, Mapping):
                yield str(table), delete.get("Key")


def _batch_links(requests: Any) -> Iterator[str]:
    for table, attributes in _batch(requests):
        link = links.dynamodb_item(table, _attribute_values(attributes))
        if link is not None:
            yield link


def _attribute_values(attributes: Any) -> Any:
    """`attributes` as DynamoDB AttributeValues, serialising plain values from boto3's resource API."""
    if not isinstance(attributes, Mapping) or not attributes:
        return attributes
    if all(isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in _TYPES for v in attributes.values()):
        return dict(attributes)
    from boto3.dynamodb.types import TypeSerializer  # only reached by code that uses boto3's resource API

    serializer = TypeSerializer()
    try:
        return {name: serializer.serialize(value) for name, value in attributes.items()}
    except (TypeError, ValueError, ArithmeticError):
        return None
