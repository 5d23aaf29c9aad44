"""Join keys for hops where AWS carries no trace context: S3 objects, DynamoDB items, Kinesis records.

The function that wrote the data and the function that reacted to it never exchange a header,
but both can see the same facts: the bucket, key and ETag of an object; the table and the key
or item of a DynamoDB write; the stream and sequence number of a Kinesis record. Each side
computes the same short key from those facts (`hoptrace.link.produced` on the writer's client
span, `hoptrace.link.consumed` on the reader's record span) and the collector pairs them. The
user's data is never changed, and only digests travel: an object key or an item may hold
personal data.

DynamoDB's producer does not know the table's key schema, so a write is keyed by what it sends
(`Key` for updates and deletes, the whole `Item` for puts) and a stream record offers the
digests of both its `Keys` and its `NewImage`; values are normalised the way DynamoDB stores
them (numbers canonical, sets unordered, binary as base64), so the client's request and the
stream's image digest alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_KEYS = 500  # PutRecords takes 500 records: one span never lists more
_SEPARATOR = "\x1f"


def key(service: str, *parts: Any) -> str:
    digest = hashlib.sha256(_SEPARATOR.join(str(p) for p in parts).encode("utf-8", "surrogatepass"))
    return f"{service}:{digest.hexdigest()[:24]}"


def s3_object(bucket: Any, object_key: Any, etag: Any) -> str | None:
    """An S3 object version as both sides see it; ETags lose the quotes S3's API puts around them."""
    if not (isinstance(bucket, str) and isinstance(object_key, str) and isinstance(etag, str) and etag):
        return None
    return key("s3", bucket, object_key, etag.strip('"'))


def kinesis_record(stream: Any, sequence_number: Any) -> str | None:
    if not (isinstance(stream, str) and stream and isinstance(sequence_number, str) and sequence_number):
        return None
    return key("kinesis", stream_name(stream), sequence_number)


def stream_name(stream: str) -> str:
    """A Kinesis stream named or given by ARN (`arn:aws:kinesis:…:stream/<name>`)."""
    return stream.rsplit("stream/", 1)[-1] if stream.startswith("arn:") else stream


def table_name(table: str) -> str:
    """A DynamoDB table named or given by table or stream ARN (`…:table/<name>[/stream/…]`)."""
    if not table.startswith("arn:"):
        return table
    return table.split("table/", 1)[-1].split("/", 1)[0]


def dynamodb_item(table: Any, attributes: Any) -> str | None:
    """A key or an item (DynamoDB AttributeValue map) in a table."""
    if not isinstance(table, str) or not table or not isinstance(attributes, dict) or not attributes:
        return None
    try:
        canonical = json.dumps(_normal_map(attributes), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    return key("dynamodb", table_name(table), canonical)


def _normal_map(attributes: dict[str, Any]) -> dict[str, Any]:
    return {str(name): _normal(value) for name, value in attributes.items()}


def _normal(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        return value
    [(kind, inner)] = value.items()
    if kind == "N":
        return {"N": _number(inner)}
    if kind == "B":
        return {"B": _binary(inner)}
    if kind in ("SS", "NS", "BS") and isinstance(inner, (list, tuple, set)):
        norms: dict[str, Callable[[Any], Any]] = {"SS": str, "NS": _number, "BS": _binary}
        norm = norms[kind]
        return {kind: sorted(norm(v) for v in inner)}
    if kind == "L" and isinstance(inner, (list, tuple)):
        return {"L": [_normal(v) for v in inner]}
    if kind == "M" and isinstance(inner, dict):
        return {"M": _normal_map(inner)}
    return {kind: inner}


def _number(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number.normalize(), "f")


def _binary(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
