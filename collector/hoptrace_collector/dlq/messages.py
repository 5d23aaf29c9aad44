"""One dead-lettered SQS message, as `ReceiveMessage` returns it, turned into a `DlqMessage`.

The trace is looked for where hoptrace and AWS carry it, with the layer's precedence (W3C
`traceparent` first, X-Ray second, see `hoptrace.carriers`):

- SQS message attributes (`traceparent`, `X-Amzn-Trace-Id`) and the `AWSTraceHeader` system attribute;
- inside an SNS envelope body (`{"Type": "Notification", "MessageAttributes": {...}}`);
- for a Lambda asynchronous-invocation DLQ (body = the event; attributes `RequestID`,
  `ErrorCode`, `ErrorMessage`) and an on-failure destination record (`requestContext`,
  `requestPayload`, `responsePayload`): the event's `_hoptrace` key (direct invokes), its
  `headers`, or an EventBridge `detail._hoptrace`.

The failing request id (Lambda DLQs) and the error message come back too, so the watcher can
join the message to the stored trace and name the error. The body's preview and the error are
stored and shown, so both pass the layer's free-text redaction first (`hoptrace.redaction`): a
dead-lettered order keeps its `"password"` out of the store like a span does. The whole body is
redacted before it is cut to its preview, so a secret cannot survive half-masked at the cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hoptrace.carriers import ContextFinder, sns_attribute_values
from hoptrace.protocol import CARRIER_KEY
from hoptrace.redaction import redact_text

PREVIEW_CHARS = 256


@dataclass(frozen=True, slots=True)
class Peeked:
    message_id: str
    receive_count: int
    body_preview: str
    trace_id: str | None
    parent_span_id: str | None
    request_id: str | None  # the failed Lambda request (async DLQ / on-failure record)
    error: str


def attribute_values(attributes: Any) -> dict[str, Any]:
    """ReceiveMessage's `MessageAttributes` ({name: {StringValue, DataType}}) as {name: value}."""
    if not isinstance(attributes, dict):
        return {}
    return {name: spec.get("StringValue") for name, spec in attributes.items() if isinstance(spec, dict)}


def _json_object(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _offer_event(finder: ContextFinder, event: Any, source: str) -> None:
    """Context a Lambda event carries in its payload (what the layer's invoke/eventbridge triggers read)."""
    if not isinstance(event, dict):
        return
    for key, where in ((CARRIER_KEY, "payload"), ("headers", "headers")):
        if isinstance(event.get(key), dict):
            finder.offer_mapping(event[key], f"{source}.{where}")
    detail = event.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get(CARRIER_KEY), dict):
        finder.offer_mapping(detail[CARRIER_KEY], f"{source}.detail")


def peek(message: dict[str, Any]) -> Peeked:
    """What one received message tells about the failure it stands for."""
    finder = ContextFinder()
    attributes = attribute_values(message.get("MessageAttributes"))
    system = message.get("Attributes") or {}
    finder.offer_mapping(attributes, "sqs.messageAttributes")
    body = raw if isinstance(raw := message.get("Body"), str) else ""
    parsed = _json_object(body)
    request_id = attributes.get("RequestID")
    error = str(attributes.get("ErrorMessage") or "")
    if parsed is not None and parsed.get("Type") == "Notification":
        finder.offer_mapping(sns_attribute_values(parsed.get("MessageAttributes")), "sns-envelope")
    elif parsed is not None and isinstance(parsed.get("requestContext"), dict) and "requestPayload" in parsed:
        request_id = request_id or parsed["requestContext"].get("requestId")
        response = parsed.get("responsePayload")
        if isinstance(response, dict):
            error = error or ": ".join(str(response[k]) for k in ("errorType", "errorMessage") if response.get(k))
        _offer_event(finder, parsed.get("requestPayload"), "on-failure.requestPayload")
    elif parsed is not None:
        _offer_event(finder, parsed, "body")
    finder.offer_xray(system.get("AWSTraceHeader"), "sqs.AWSTraceHeader")
    found = finder.found
    try:
        # The count includes this very peek (and earlier peeks): what the consumers did is one less, and
        # the first sighting's figure is kept (rules.merge_dlq), so the page shows their receives only.
        receive_count = max(0, int(system.get("ApproximateReceiveCount", 0)) - 1)
    except (TypeError, ValueError):
        receive_count = 0
    return Peeked(
        message_id=str(message.get("MessageId", "")), receive_count=receive_count,
        body_preview=redact_text(body)[:PREVIEW_CHARS],
        trace_id=f"{found.trace_id:032x}" if found else None,
        parent_span_id=f"{found.span_id:016x}" if found and found.span_id else None,
        request_id=str(request_id) if request_id else None, error=redact_text(error))
