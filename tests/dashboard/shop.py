"""The demo shop's traffic as store records, built the way the layer and the collector would write them.

One `order_flow` is one customer order crossing every hop the demo has: API Gateway
(orders-api) → SNS → SQS (payments, enveloped; inventory, raw) → HTTP back into the
orders API → EventBridge → invoices / order-status → EventBridge → notifications (async,
retried). Variants add what an on-call engineer hunts for: cold starts (with their `init`
span), a poison message that fails three receives and lands in the DLQ, a notification that
fails once and is retried, a declined payment, a batch mixing two traces, a timed-out
scheduled report. The AppTests write a handful of these; the 1M-span benchmark store writes
tens of thousands.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hoptrace import semconv
from hoptrace_collector.store import DlqMessage, InvocationRecord, LogLine, SpanRecord

MS = 1_000_000
API_HOST = "api.shop.local"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:order-events"
FUNCTIONS = {  # function -> service
    "demo-orders-api": "orders",
    "demo-order-status": "orders",
    "demo-payments": "payments",
    "demo-inventory": "inventory",
    "demo-invoices": "invoices",
    "demo-notifications": "notifications",
    "demo-reports": "reports",
}
RESOURCES = {fn: {semconv.SERVICE_NAME: service, semconv.FAAS_NAME: fn, semconv.CLOUD_PROVIDER: "aws",
                  semconv.CLOUD_PLATFORM: "aws_lambda"} for fn, service in FUNCTIONS.items()}
POISON_ERROR = "reported in batchItemFailures"
NOTIFY_ERROR_TYPE = "notifications.app.TransientFailure"
NOTIFY_ERROR_MESSAGE = "SMTP relay unavailable"


@dataclass
class Records:
    spans: list[SpanRecord] = field(default_factory=list)
    invocations: list[InvocationRecord] = field(default_factory=list)
    dlq: list[DlqMessage] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)

    def extend(self, other: Records) -> None:
        self.spans += other.spans
        self.invocations += other.invocations
        self.dlq += other.dlq
        self.logs += other.logs

    def log(self, span: SpanRecord, offset_ms: float, message: str, level: str = "") -> None:
        """A line the invocation of `span` logged (print when no level), `offset_ms` after it started."""
        self.logs.append(LogLine(span.function, span.request_id or "", span.start_ns + int(offset_ms * MS),
                                 f"{span.start_ns + int(offset_ms * MS):020d}{len(self.logs):036d}", message, level,
                                 "2026/12/01/[$LATEST]0123456789abcdef"))


@dataclass
class Flow:
    """Options of one order's journey; the defaults are the happy path, warm everywhere."""

    order: str = "o-1"
    cold: frozenset[str] = frozenset()  # functions whose invocation in this flow is a cold start
    declined: bool = False
    poison: bool = False  # the payments record fails every receive and ends in the payments DLQ
    notify_retry: bool = False  # the first notification attempt fails, the async retry succeeds
    batched: bool = False  # payments took this order in a batch mixing traces (see `mixed_batch`)
    payment_ms: float = 40.0
    init_ms: float = 180.0


class Ids:
    """Span ids from a seeded generator: the same flow always gets the same ids."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(seed)

    def span(self) -> str:
        return f"{self._random.getrandbits(64) or 1:016x}"

    def trace(self, start_ns: int) -> str:
        """X-Ray compatible: the first 8 hex digits are the epoch seconds."""
        return f"{start_ns // 1_000_000_000:08x}{self._random.getrandbits(96):024x}"

    def request(self) -> str:
        """A Lambda request id (and SQS message id): a UUID."""
        raw = f"{self._random.getrandbits(128):032x}"
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


class _Builder:
    def __init__(self, trace_id: str, ids: Ids) -> None:
        self.trace_id = trace_id
        self.ids = ids
        self.records = Records()
        self.started: set[str] = set()

    def span(self, function: str, name: str, kind: str, start: int, duration_ms: float, parent: str | None,
             attributes: dict[str, Any] | None = None, *, error: str = "", events: list[dict[str, Any]] | None = None,
             links: list[dict[str, Any]] | None = None, request_id: str | None = None, cold: bool = False,
             trace_id: str | None = None, source: str = "layer") -> SpanRecord:
        attributes = dict(attributes or {})
        if request_id is not None:
            attributes[semconv.FAAS_INVOCATION_ID] = request_id
            attributes[semconv.FAAS_COLDSTART] = cold
        trigger = attributes.get(semconv.TRIGGER) or attributes.get(semconv.FAAS_TRIGGER)
        record = SpanRecord(
            trace_id=trace_id or self.trace_id, span_id=self.ids.span(), parent_id=parent, name=name, kind=kind,
            start_ns=start, end_ns=start + int(duration_ms * MS), status="error" if error else "unset",
            status_message=error, service=FUNCTIONS[function], function=function, request_id=request_id,
            cold_start=cold, trigger=trigger, attributes=attributes, events=events or [], links=links or [],
            resource=RESOURCES[function], source=source)  # type: ignore[arg-type]
        self.records.spans.append(record)
        return record

    def invocation(self, function: str, name: str, kind: str, start: int, duration_ms: float, parent: str | None,
                   attributes: dict[str, Any], flow: Flow, *, error: str = "",
                   events: list[dict[str, Any]] | None = None, links: list[dict[str, Any]] | None = None,
                   trace_id: str | None = None) -> SpanRecord:
        """An invocation span, its `init` span when cold, and the platform's REPORT for it.

        Only a function's first invocation in the flow starts cold: later ones find its instance warm.
        """
        cold = function in flow.cold and function not in self.started
        self.started.add(function)
        attributes = dict(attributes)
        if cold:
            attributes[semconv.INIT_DURATION_MS] = flow.init_ms
            attributes[semconv.INIT_TYPE] = "on-demand"
        request_id = self.ids.request()
        span = self.span(function, name, kind, start, duration_ms, parent, attributes, error=error, events=events,
                         links=links, request_id=request_id, cold=cold, trace_id=trace_id)
        if cold:
            init_start = start - int(flow.init_ms * MS)
            self.span(function, f"init {function}", "internal", init_start, flow.init_ms, span.span_id,
                      {semconv.INIT_DURATION_MS: flow.init_ms, semconv.INIT_TYPE: "on-demand"},
                      trace_id=span.trace_id)
        self.records.invocations.append(InvocationRecord(
            request_id=request_id, function=function, time_ns=span.end_ns, outcome="error" if error else "ok",
            duration_ms=duration_ms, billed_ms=float(int(duration_ms) + 1), memory_mb=256, max_memory_mb=90,
            init_ms=flow.init_ms if cold else None, trace_id=span.trace_id))
        return span


def _sqs_attributes(queue: str, message_id: str, wait_ms: float, receive_count: int) -> dict[str, Any]:
    return {semconv.MESSAGING_SYSTEM: "aws_sqs", semconv.MESSAGING_OPERATION: "process",
            semconv.MESSAGING_DESTINATION: queue, semconv.MESSAGING_MESSAGE_ID: message_id,
            semconv.QUEUE_WAIT_MS: wait_ms, semconv.RECEIVE_COUNT: receive_count,
            "hoptrace.upstream": "sns:order-events"}


def _sqs_invocation_attributes(queue: str, count: int = 1) -> dict[str, Any]:
    return {semconv.FAAS_TRIGGER: "pubsub", semconv.TRIGGER: "sqs", semconv.MESSAGING_SYSTEM: "aws_sqs",
            semconv.MESSAGING_OPERATION: "process", semconv.MESSAGING_DESTINATION: queue,
            semconv.MESSAGING_BATCH_COUNT: count}


def _eventbridge_attributes(detail_type: str, source: str) -> dict[str, Any]:
    return {semconv.FAAS_TRIGGER: "pubsub", semconv.TRIGGER: "eventbridge", semconv.MESSAGING_SYSTEM: "aws_eventbridge",
            semconv.MESSAGING_DESTINATION: detail_type, semconv.EVENTBRIDGE_SOURCE: source,
            semconv.EVENTBRIDGE_DETAIL_TYPE: detail_type}


def _http_attributes(method: str, route: str, path: str, status: int) -> dict[str, Any]:
    return {semconv.FAAS_TRIGGER: "http", semconv.TRIGGER: "apigateway_http", semconv.HTTP_METHOD: method,
            semconv.HTTP_ROUTE: route, semconv.URL_PATH: path, semconv.SERVER_ADDRESS: API_HOST,
            semconv.HTTP_STATUS: status}


def _aws_call(service: str, method: str, **extra: Any) -> dict[str, Any]:
    return {"rpc.system": "aws-api", "rpc.service": service, "rpc.method": method, **extra}


def _exception(type_: str, message: str, time_ns: int) -> dict[str, Any]:
    stack = (f'Traceback (most recent call last):\n  File "/var/task/app.py", line 21, in handler\n'
             f"    send(detail)\n{type_}: {message}\n")
    return {"name": "exception", "time": time_ns, "attributes": {
        semconv.EXCEPTION_TYPE: type_, semconv.EXCEPTION_MESSAGE: message, semconv.EXCEPTION_STACKTRACE: stack}}


def order_flow(t0: int, flow: Flow, ids: Ids) -> Records:
    """One order placed at `t0` (ns), followed through every service it reaches."""
    b = _Builder(ids.trace(t0), ids)
    # orders: API Gateway -> DynamoDB -> SNS publish
    api = b.invocation("demo-orders-api", "POST /orders", "server", t0, 45, None,
                       _http_attributes("POST", "/orders", "/orders", 201), flow)
    b.span("demo-orders-api", "DynamoDB.PutItem", "client", t0 + 2 * MS, 8, api.span_id,
           _aws_call("DynamoDB", "PutItem", **{"aws.dynamodb.table_names": ["orders-table"]}))
    publish = b.span("demo-orders-api", "order-events send", "producer", t0 + 12 * MS, 18, api.span_id,
                     _aws_call("SNS", "Publish", **{semconv.MESSAGING_SYSTEM: "aws.sns",
                                                    semconv.MESSAGING_DESTINATION: TOPIC_ARN}))
    _inventory(b, flow, t0 + 55 * MS, publish.span_id)
    if flow.poison:
        _poison_payment(b, flow, t0 + 60 * MS, publish.span_id)
        return b.records
    if flow.batched:
        return b.records
    put = _payment(b, flow, t0 + 60 * MS, publish.span_id)
    detail_type = "PaymentFailed" if flow.declined else "PaymentSucceeded"
    status = b.invocation("demo-order-status", f"process {detail_type}", "consumer", put.end_ns + 25 * MS, 15,
                          put.span_id, _eventbridge_attributes(detail_type, "shop.payments"), flow)
    b.span("demo-order-status", "DynamoDB.UpdateItem", "client", status.start_ns + 2 * MS, 9, status.span_id,
           _aws_call("DynamoDB", "UpdateItem", **{"aws.dynamodb.table_names": ["orders-table"]}))
    if flow.declined:
        _notify(b, flow, put.end_ns + 30 * MS, put.span_id, "PaymentFailed", "shop.payments")
        return b.records
    invoice = b.invocation("demo-invoices", "process PaymentSucceeded", "consumer", put.end_ns + 30 * MS, 60,
                           put.span_id, _eventbridge_attributes("PaymentSucceeded", "shop.payments"), flow)
    b.span("demo-invoices", "S3.PutObject", "client", invoice.start_ns + 5 * MS, 20, invoice.span_id,
           _aws_call("S3", "PutObject"))
    issued = b.span("demo-invoices", "EventBridge.PutEvents", "client", invoice.start_ns + 30 * MS, 20,
                    invoice.span_id, _aws_call("EventBridge", "PutEvents"))
    _notify(b, flow, issued.end_ns + 30 * MS, issued.span_id, "InvoiceIssued", "shop.invoices")
    return b.records


def _inventory(b: _Builder, flow: Flow, start: int, parent: str) -> None:
    """Inventory (SQS, raw SNS delivery) asks the orders API over HTTP, then updates its table."""
    inv = b.invocation("demo-inventory", "process inventory-queue", "consumer", start, 75, parent,
                       _sqs_invocation_attributes("inventory-queue"), flow)
    record = b.span("demo-inventory", "process inventory-queue", "consumer", start + 1 * MS, 72, inv.span_id,
                    _sqs_attributes("inventory-queue", b.ids.request(), 20.0, 1))
    call = b.span("demo-inventory", f"GET {API_HOST}", "client", start + 5 * MS, 30, record.span_id,
                  {semconv.HTTP_METHOD: "GET", semconv.URL_FULL: f"http://{API_HOST}/orders/{flow.order}",
                   semconv.SERVER_ADDRESS: API_HOST, semconv.HTTP_STATUS: 200})
    b.invocation("demo-orders-api", "GET /orders/{id}", "server", start + 10 * MS, 20, call.span_id,
                 _http_attributes("GET", "/orders/{id}", f"/orders/{flow.order}", 200), flow)
    b.span("demo-inventory", "DynamoDB.UpdateItem", "client", start + 40 * MS, 25, record.span_id,
           _aws_call("DynamoDB", "UpdateItem", **{"aws.dynamodb.table_names": ["inventory-table"]}))


def _payment(b: _Builder, flow: Flow, start: int, parent: str) -> SpanRecord:
    """Payments (SQS, SNS envelope): charge, then PaymentSucceeded/PaymentFailed on the bus; returns PutEvents."""
    work = flow.payment_ms
    inv = b.invocation("demo-payments", "process payments-queue", "consumer", start, work + 40, parent,
                       _sqs_invocation_attributes("payments-queue"), flow)
    record = b.span("demo-payments", "process payments-queue", "consumer", start + 1 * MS, work + 37, inv.span_id,
                    _sqs_attributes("payments-queue", b.ids.request(), 28.0, 1))
    return b.span("demo-payments", "EventBridge.PutEvents", "client", start + int((work + 10) * MS), 20,
                  record.span_id, _aws_call("EventBridge", "PutEvents"))


def _poison_payment(b: _Builder, flow: Flow, start: int, parent: str) -> None:
    """The record fails on every receive; after the third, SQS moves it to the payments DLQ."""
    message_id = b.ids.request()
    for receive in (1, 2, 3):
        at = start + (receive - 1) * 2_000 * MS
        inv = b.invocation("demo-payments", "process payments-queue", "consumer", at, 12, parent,
                           {**_sqs_invocation_attributes("payments-queue"), "hoptrace.batch_item_failures": 1},
                           flow if receive == 1 else Flow(), error="1 of 1 records failed")
        b.span("demo-payments", "process payments-queue", "consumer", at + 1 * MS, 9, inv.span_id,
               {**_sqs_attributes("payments-queue", message_id, 28.0 + (receive - 1) * 2_000, receive),
                semconv.BATCH_ITEM_FAILED: True}, error=POISON_ERROR)
        b.records.log(inv, 2, f"charging order {flow.order}", "INFO")
        b.records.log(inv, 5, f"cannot charge message {message_id}: order {flow.order} has amount -5.0")
    b.records.dlq.append(DlqMessage(
        queue="payments-dlq", message_id=message_id, first_seen_ns=start + 6_000 * MS, receive_count=3,
        trace_id=b.trace_id, parent_span_id=parent, body_preview=f'{{"order_id": "{flow.order}", "amount": -5.0}}',
        source_queue="payments-queue", error=POISON_ERROR))


def _notify(b: _Builder, flow: Flow, start: int, parent: str, detail_type: str, source: str) -> None:
    """Notifications run asynchronously; a failed attempt is retried by Lambda with the same event."""
    attributes = _eventbridge_attributes(detail_type, source)
    if flow.notify_retry:
        failed = b.invocation("demo-notifications", f"process {detail_type}", "consumer", start, 30, parent,
                              attributes, flow, error=f"TransientFailure: {NOTIFY_ERROR_MESSAGE}",
                              events=[_exception(NOTIFY_ERROR_TYPE, NOTIFY_ERROR_MESSAGE, start + 29 * MS)])
        b.records.log(failed, 29, f"TransientFailure: {NOTIFY_ERROR_MESSAGE}", "ERROR")
        start += 1_000 * MS
        flow = Flow()
    b.invocation("demo-notifications", f"process {detail_type}", "consumer", start, 25, parent, attributes, flow)


def mixed_batch(t0: int, producers: list[SpanRecord], ids: Ids) -> Records:
    """One payments invocation whose batch holds messages of several traces (see the layer's record_scope)."""
    b = _Builder(ids.trace(t0), ids)
    links = [{"trace_id": p.trace_id, "span_id": p.span_id, "attributes": {semconv.MESSAGING_MESSAGE_ID: f"m{i}"}}
             for i, p in enumerate(producers)]
    inv = b.invocation("demo-payments", "process payments-queue", "consumer", t0, 90, None,
                       _sqs_invocation_attributes("payments-queue", len(producers)), Flow(), links=links)
    for i, producer in enumerate(producers):
        b.span("demo-payments", "process payments-queue", "consumer", t0 + (1 + i) * MS, 40, producer.span_id,
               _sqs_attributes("payments-queue", f"m{i}", 31.0, 1), trace_id=producer.trace_id,
               links=[{"trace_id": inv.trace_id, "span_id": inv.span_id, "attributes": {}}])
    return b.records


def timed_out_report(t0: int, ids: Ids) -> Records:
    """The scheduled report killed at its 60 s timeout: the collector's platform span and the REPORT."""
    b = _Builder(ids.trace(t0), ids)
    request_id = ids.request()
    message = "Task timed out after 60.00 seconds"
    span = b.span("demo-reports", "schedule demo-reports-Daily", "server", t0, 60_000, None,
                  {semconv.FAAS_TRIGGER: "timer", semconv.TRIGGER: "schedule", "hoptrace.platform.outcome": "timeout",
                   "hoptrace.platform.duration_ms": 60_000.0},
                  error=message, request_id=request_id, source="platform")
    b.records.invocations.append(InvocationRecord(
        request_id=request_id, function="demo-reports", time_ns=span.end_ns, outcome="timeout", duration_ms=60_000.0,
        billed_ms=60_000.0, memory_mb=256, max_memory_mb=120, message=message, trace_id=span.trace_id))
    return b.records


def out_of_memory(t0: int, ids: Ids) -> Records:
    """An inventory invocation the platform killed for memory, with no span of the layer's (it never finished)."""
    return Records(invocations=[InvocationRecord(
        request_id=ids.request(), function="demo-inventory", time_ns=t0, outcome="oom", duration_ms=812.0,
        memory_mb=256, max_memory_mb=256, message="Runtime exited with error: signal: killed (out of memory: "
        "256 of 256 MB used)")])


def root(records: Records) -> SpanRecord:
    return next(s for s in records.spans if s.parent_id is None)


def publish_span(records: Records) -> SpanRecord:
    return next(s for s in records.spans if s.kind == "producer")
