"""S3 writes: the object version a `PutObject`/`CopyObject`/`CompleteMultipartUpload` produced.

S3 notifications carry no trace context and S3 has no place to put one without changing the
object (metadata is part of the user's data), so the writer's client span records the link key
of what it wrote (bucket, key, ETag from the response) and the collector joins it to the
notification's consumer, which computes the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import links, semconv

WRITES = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    bucket, key = params.get("Bucket"), params.get("Key")
    if isinstance(bucket, str):
        attributes[semconv.AWS_S3_BUCKET] = bucket
    if isinstance(key, str):
        attributes[semconv.AWS_S3_KEY] = key[:1024]
    return attributes


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    if operation not in WRITES:
        return {}
    etag = response.get("ETag")
    if operation == "CopyObject":
        result = response.get("CopyObjectResult")
        etag = result.get("ETag") if isinstance(result, Mapping) else None
    link = links.s3_object(params.get("Bucket"), params.get("Key"), etag)
    if link is None:
        return {}
    attributes: dict[str, Any] = {semconv.S3_ETAG: str(etag).strip('"'), semconv.LINK_PRODUCED: [link]}
    if isinstance(response.get("VersionId"), str):
        attributes[semconv.S3_VERSION_ID] = response["VersionId"]
    return attributes
