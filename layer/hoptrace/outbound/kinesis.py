"""Kinesis `PutRecord`/`PutRecords`: the sequence numbers the stream gave the written records.

A Kinesis record has no attributes to carry context in, so the producer span lists the link keys
of (stream, sequence number) from the response, which the consumer's record span also computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace import links, semconv


def _stream(params: Mapping[str, Any]) -> str | None:
    stream = params.get("StreamName") or params.get("StreamARN")
    return links.stream_name(stream) if isinstance(stream, str) and stream else None


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    stream = _stream(params)
    if stream is None:
        return {}
    return {semconv.AWS_KINESIS_STREAM: stream, semconv.MESSAGING_SYSTEM: "aws_kinesis",
            semconv.MESSAGING_DESTINATION: stream}


def response_attributes(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    stream = _stream(params)
    if stream is None:
        return {}
    if operation == "PutRecord":
        numbers = [response.get("SequenceNumber")]
    elif operation == "PutRecords":
        records = response.get("Records")
        numbers = [r.get("SequenceNumber") for r in records if isinstance(r, Mapping)] if isinstance(
            records, list) else []
    else:
        return {}
    produced = [k for k in (links.kinesis_record(stream, n) for n in numbers[: links.MAX_KEYS]) if k is not None]
    return {semconv.LINK_PRODUCED: produced} if produced else {}
