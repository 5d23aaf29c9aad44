"""CloudWatch Logs subscription events: `{"awslogs": {"data": base64(gzip(json))}}`.

The JSON holds `messageType` (DATA_MESSAGE, or CONTROL_MESSAGE: a health check to ignore),
`owner`, `logGroup`, `logStream`, `subscriptionFilters` and `logEvents[{id, timestamp, message}]`.
Everything that can be wrong with it raises `PayloadError` with a countable `kind`; a single
bad log event is reported in `LogBatch.bad_events` and the rest of the batch still counts.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass, field
from typing import Any

from hoptrace_collector.ingest.text import clean_text, may_hold_surrogates
from hoptrace_collector.jsonlib import loads
from hoptrace_collector.store.model import MAX_INT64

#: A subscription payload is at most about 1 MB decompressed; 32 MiB means a gzip bomb, not logs.
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
#: Timestamps are epoch milliseconds; a larger one would overflow the store's nanosecond times.
MAX_TIMESTAMP_MS = MAX_INT64 // 1_000_000


class PayloadError(ValueError):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(slots=True)
class LogEvent:
    """One log event of a batch. Treat as immutable; not declared frozen because a frozen dataclass's
    `__init__` sets each field through `object.__setattr__`, and ingest builds one per log line."""

    id: str
    timestamp_ms: int
    message: str


@dataclass
class LogBatch:
    message_type: str
    owner: str
    log_group: str
    log_stream: str
    filters: list[str]
    events: list[LogEvent]
    bad_events: list[str] = field(default_factory=list)
    #: Some string may hold a lone surrogate escape (see ingest.text); raw ones are already replaced.
    surrogates: bool = False

    @property
    def is_control(self) -> bool:
        return self.message_type == "CONTROL_MESSAGE"


def decode_subscription(event: Any) -> LogBatch:
    """The batch inside a subscription event, or PayloadError saying what was wrong."""
    awslogs = event.get("awslogs") if isinstance(event, dict) else None
    data = awslogs.get("data") if isinstance(awslogs, dict) else None  # `{"awslogs": null}` is bad input too
    if not isinstance(data, str):
        raise PayloadError("not_subscription_event", "expected {'awslogs': {'data': '<base64>'}}, got "
                           + (f"keys {sorted(event)[:5]}" if isinstance(event, dict) else type(event).__name__))
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError("bad_base64", f"awslogs.data is not base64 ({exc})") from exc
    text = _gunzip(compressed)
    try:
        document = loads(text)
    except ValueError as exc:
        raise PayloadError("bad_json", f"decompressed payload is not JSON (truncated?): {exc}") from exc
    except RecursionError as exc:
        raise PayloadError("too_deep", "decompressed payload nests deeper than the JSON decoder goes") from exc
    if not isinstance(document, dict):
        raise PayloadError("not_object", f"payload must be a JSON object, got {type(document).__name__}")
    return _batch(document, may_hold_surrogates(text))


def _gunzip(compressed: bytes) -> bytes:
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        text = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES)
    except zlib.error as exc:
        raise PayloadError("bad_gzip", f"awslogs.data is not gzip ({exc})") from exc
    if inflater.unconsumed_tail:
        raise PayloadError("too_large", f"payload inflates beyond {MAX_DECOMPRESSED_BYTES} bytes")
    if not inflater.eof:
        raise PayloadError("bad_gzip", "gzip stream is truncated")
    return text


def _batch(document: dict[str, Any], surrogates: bool = False) -> LogBatch:
    message_type = document.get("messageType")
    if message_type not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
        raise PayloadError("bad_shape", f"messageType must be DATA_MESSAGE or CONTROL_MESSAGE, got {message_type!r}")
    group, stream = document.get("logGroup"), document.get("logStream")
    raw_events = document.get("logEvents", [])
    if message_type == "DATA_MESSAGE" and not (isinstance(group, str) and isinstance(stream, str)):
        raise PayloadError("bad_shape", "logGroup and logStream must be strings")
    if not isinstance(raw_events, list):
        raise PayloadError("bad_shape", f"logEvents must be a list, got {type(raw_events).__name__}")
    filters = document.get("subscriptionFilters")
    batch = LogBatch(message_type, str(document.get("owner", "")), group or "", stream or "",
                     [str(f) for f in filters] if isinstance(filters, list) else [], [], surrogates=surrogates)
    if surrogates:
        batch.owner, batch.log_group, batch.log_stream = (clean_text(batch.owner), clean_text(batch.log_group),
                                                          clean_text(batch.log_stream))
    append = batch.events.append
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            batch.bad_events.append(f"logEvents[{index}] is not an object")
            continue
        message, timestamp = raw.get("message"), raw.get("timestamp")
        if not isinstance(message, str) or type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP_MS:
            batch.bad_events.append(f"logEvents[{index}] needs a string message and an integer timestamp "
                                    f"(epoch ms, 0 to {MAX_TIMESTAMP_MS})")
            continue
        if surrogates:
            message = clean_text(message)
        event_id = raw.get("id", "")
        append(LogEvent(event_id if type(event_id) is str else str(event_id), timestamp, message))
    return batch
