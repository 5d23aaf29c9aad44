"""Realistic collector workloads: traces across ~50 functions, as log batches and as store records.

A trace is one request through 2-4 functions (API -> queue consumers -> event handlers), 5-15
spans in all: each function's invocation span carries the attributes the layer writes, with
1-4 client spans (AWS SDK / HTTP calls) under it; about 8 % of invocations are cold starts
(with an init span), 3 % fail. Each function's part is printed as the layer prints it — one
`HOPTRACE` line per invocation with its resource, between START/END/REPORT lines — and a
log group's lines are cut into CloudWatch-Logs subscription batches.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hoptrace import wire
from hoptrace_collector.ingest.problems import Problems
from hoptrace_collector.ingest.records import DEFAULT_LIMITS, names, to_record
from hoptrace_collector.store.model import SpanRecord

GENERATOR_VERSION = 2
_AREAS = ("orders", "payments", "inventory", "shipping", "billing", "users", "search", "catalog", "cart", "reviews")
_ROLES = ("api", "worker", "events", "notify", "sync")
FUNCTIONS = tuple(f"{area}-{role}" for area in _AREAS for role in _ROLES)  # 50 functions
_TRIGGERS = {"api": ("apigateway", "http", "server"), "worker": ("sqs", "pubsub", "consumer"),
             "events": ("eventbridge", "pubsub", "consumer"), "notify": ("sns", "pubsub", "consumer"),
             "sync": ("invoke", "other", "server")}
_CALLS = (("DynamoDB", "GetItem"), ("DynamoDB", "PutItem"), ("SQS", "SendMessage"), ("SNS", "Publish"),
          ("EventBridge", "PutEvents"), ("S3", "GetObject"))


@dataclass
class Invocation:
    function: str
    request_id: str
    resource: dict[str, Any]
    spans: list[dict[str, Any]]
    start_ns: int
    end_ns: int
    cold: bool


def log_stream_of(function: str) -> str:
    return f"2026/11/25/[$LATEST]{zlib.crc32(function.encode()):08x}0123456789abcdef01234567"


def resource_of(function: str) -> dict[str, Any]:
    """The resource the real layer builds in this function (hoptrace.engine.resource), in eu-west-1."""
    from hoptrace.config import Config
    from hoptrace.engine.resource import resource_attributes

    env = {"AWS_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_of(function),
           "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}
    return resource_attributes(Config(service_name=function), env)


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4) | 1:0{digits}x}"


def _uuid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


def trace(rng: random.Random, start_ns: int, resources: dict[str, dict[str, Any]]) -> list[Invocation]:
    """One request: 2-4 function invocations, 5-15 spans, each invocation a child of the previous call."""
    trace_id = f"{start_ns // 1_000_000_000:08x}{_hex(rng, 24)}"
    area = rng.choice(_AREAS)
    chain = [f"{area}-api"] + [f"{rng.choice(_AREAS)}-{rng.choice(_ROLES[1:])}" for _ in range(rng.randint(1, 3))]
    target = rng.randint(5, 15)
    budget = [1] * len(chain)
    for _ in range(target - len(chain)):
        budget[rng.randrange(len(chain))] += 1
    invocations, parent, clock = [], None, start_ns
    for function, count in zip(chain, budget, strict=True):
        invocation = _invocation(rng, trace_id, parent, function, count, clock, resources)
        invocations.append(invocation)
        parent = invocation.spans[-1]["span_id"]  # the last client call reaches the next function
        clock = invocation.spans[-1]["start"] + 2_000_000
    return invocations


def _invocation(rng: random.Random, trace_id: str, parent: str | None, function: str, count: int, start: int,
                resources: dict[str, dict[str, Any]]) -> Invocation:
    role = function.rsplit("-", 1)[1]
    trigger, faas_trigger, kind = _TRIGGERS[role]
    cold = rng.random() < 0.08
    failed = rng.random() < 0.03
    request_id = _uuid(rng)
    span_id = _hex(rng, 16)
    duration = int(rng.lognormvariate(3.0, 0.6) * 1_000_000)
    attributes: dict[str, Any] = {"faas.trigger": faas_trigger, "hoptrace.trigger": trigger,
                                  "hoptrace.context_source": "sqs.messageAttributes" if parent else "none",
                                  "faas.invocation_id": request_id, "cloud.account.id": "123456789012",
                                  "cloud.resource_id": f"arn:aws:lambda:eu-west-1:123456789012:function:{function}",
                                  "faas.coldstart": cold}
    if role == "api":
        attributes.update({"http.request.method": "POST", "http.route": f"/{function.split('-')[0]}/{{id}}",
                           "url.path": f"/{function.split('-')[0]}/{rng.randint(1, 99999)}",
                           "http.response.status_code": 500 if failed else 200, "user_agent.original": "curl/8.5"})
    else:
        attributes.update({"messaging.system": "aws_sqs", "messaging.operation.type": "process",
                           "messaging.destination.name": f"{function}-queue", "hoptrace.queue_wait_ms": 12.5})
    if cold:
        attributes["hoptrace.init_duration_ms"] = round(rng.uniform(250, 900), 3)
    status = {"code": "error", "message": "ValueError: payment declined"} if failed else {"code": "unset"}
    spans = [{"trace_id": trace_id, "span_id": span_id, "parent_id": parent, "name": f"{function} invocation",
              "kind": kind, "start": start, "end": start + duration, "status": status, "attributes": attributes}]
    if failed:
        spans[0]["events"] = [{"name": "exception", "time": start + duration, "attributes": {
            "exception.type": "ValueError", "exception.message": "payment declined",
            "exception.stacktrace": 'Traceback (most recent call last):\n  File "app.py", line 12\n'}}]
    clients = count - 1
    if cold and clients:
        spans.append({"trace_id": trace_id, "span_id": _hex(rng, 16), "parent_id": span_id,
                      "name": f"init {function}", "kind": "internal", "start": start - 300_000_000, "end": start,
                      "status": {"code": "unset"}, "attributes": {"hoptrace.init_type": "on-demand"}})
        clients -= 1
    for index in range(clients):
        service, operation = rng.choice(_CALLS)
        call_start = start + duration * (index + 1) // (clients + 2)
        spans.append({"trace_id": trace_id, "span_id": _hex(rng, 16), "parent_id": span_id,
                      "name": f"{service}.{operation}", "kind": "client", "start": call_start,
                      "end": call_start + duration // (clients + 3), "status": {"code": "unset"},
                      "attributes": {"rpc.system": "aws-api", "rpc.service": service, "rpc.method": operation,
                                     "cloud.region": "eu-west-1", "aws.request_id": _uuid(rng),
                                     "http.response.status_code": 200}})
    resource = resources.setdefault(function, resource_of(function))
    return Invocation(function, request_id, resource, spans, start, start + duration, cold)


def invocations(count: int, seed: int, start_ns: int, spread_ns: int) -> Iterator[Invocation]:
    """About `count` spans' worth of traces, starting one after another (random gaps) over `spread_ns`."""
    rng = random.Random(seed)
    resources: dict[str, dict[str, Any]] = {}
    produced = 0
    mean_gap = spread_ns / max(1, count / 10)  # traces average 10 spans
    clock = start_ns
    while produced < count:
        clock += int(rng.expovariate(1 / mean_gap))
        for invocation in trace(rng, clock, resources):
            produced += len(invocation.spans)
            yield invocation


SIZED_INVOCATION_SPANS = 5


def sized_invocations(count: int, trace_spans: int, seed: int, start_ns: int) -> Iterator[Invocation]:
    """About `count` spans in traces of exactly `trace_spans` spans, in invocations of 5 spans each (the
    previous one's last call is the next one's parent): a 1,000-span trace is 200 invocations, so
    small and large traces differ in trace size only, not in the work per invocation."""
    rng = random.Random(seed)
    resources: dict[str, dict[str, Any]] = {}
    produced, clock = 0, start_ns
    while produced < count:
        clock += int(rng.expovariate(1 / 50_000_000))
        trace_id = f"{clock // 1_000_000_000:08x}{_hex(rng, 24)}"
        parent, left, start = None, trace_spans, clock
        while left:
            size = min(left, SIZED_INVOCATION_SPANS)
            function = f"{rng.choice(_AREAS)}-{'api' if parent is None else rng.choice(_ROLES[1:])}"
            invocation = _invocation(rng, trace_id, parent, function, size, start, resources)
            left -= len(invocation.spans)
            produced += len(invocation.spans)
            parent, start = invocation.spans[-1]["span_id"], invocation.spans[-1]["start"] + 1_000_000
            yield invocation


def app_lines(request_id: str, count: int) -> list[str]:
    """`count` application lines of ~90 bytes, half `logging` (with the request id), half `print`."""
    samples = [f"[INFO]\t2026-12-01T10:00:00.000Z\t{request_id}\tcharging order o-{request_id[:6]} for customer grace",
               f"cannot charge message {request_id[:8]}: amount -12.5 for order o-{request_id[:6]} (retry later)",
               f"[WARNING]\t2026-12-01T10:00:00.010Z\t{request_id}\tprovider answered 503, retrying once",
               f"sent receipt for order o-{request_id[:6]} to grace@example.com in 41 ms"]
    return [samples[n % len(samples)] + "\n" for n in range(count)]


def log_lines(invocation: Invocation, app: int = 0, compress: bool = False) -> list[tuple[int, str]]:
    """(timestamp ms, message) of what the function's log holds for the invocation (`app` application lines;
    `compress`: span lines as HOPTRACE_COMPRESS_LINES writes them)."""
    start_ms, end_ms = invocation.start_ns // 1_000_000, invocation.end_ns // 1_000_000
    rid = invocation.request_id
    report = (f"REPORT RequestId: {rid}\tDuration: {(invocation.end_ns - invocation.start_ns) / 1e6:.2f} ms\t"
              f"Billed Duration: {(invocation.end_ns - invocation.start_ns) // 1_000_000 + 1} ms\t"
              f"Memory Size: 256 MB\tMax Memory Used: 91 MB\t")
    if invocation.cold:
        report += "Init Duration: 412.50 ms\t"
    lines = [(start_ms, f"START RequestId: {rid} Version: $LATEST\n")]
    lines += [(start_ms, line) for line in app_lines(rid, app)]
    lines += [(end_ms, line + "\n") for line in wire.encode(invocation.spans, invocation.resource, compress=compress)]
    lines += [(end_ms, f"END RequestId: {rid}\n"), (end_ms, report + "\n")]
    return lines


def subscription_batches(spans: int, seed: int = 1, start_ns: int = 1_795_593_398_000_000_000,
                         events_per_batch: int = 400, trace_spans: int | None = None, app: int = 0,
                         compress: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Subscription events carrying about `spans` spans, and the exact span count.

    Traces are the realistic mix (5-15 spans), or all of exactly `trace_spans` spans when given;
    each invocation logs `app` application lines besides its platform and span lines.
    """
    by_group: dict[str, list[tuple[int, str]]] = {}
    total = 0
    source = (invocations(spans, seed, start_ns, 600 * 1_000_000_000) if trace_spans is None
              else sized_invocations(spans, trace_spans, seed, start_ns))
    for invocation in source:
        by_group.setdefault(f"/aws/lambda/{invocation.function}", []).extend(log_lines(invocation, app, compress))
        total += len(invocation.spans)
    batches = []
    counter = 0
    for group, lines in by_group.items():
        for start in range(0, len(lines), events_per_batch):
            log_events = []
            for timestamp, message in lines[start:start + events_per_batch]:
                counter += 1
                log_events.append({"id": f"{timestamp:020d}{counter:036d}", "timestamp": timestamp,
                                   "message": message})
            document = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
                        "logStream": log_stream_of(group[len("/aws/lambda/"):]),
                        "subscriptionFilters": ["hoptrace"], "logEvents": log_events}
            data = gzip.compress(json.dumps(document, separators=(",", ":")).encode())
            batches.append((log_events[0]["timestamp"], {"awslogs": {"data": base64.b64encode(data).decode()}}))
    # Every log group delivers as time goes by: batches arrive roughly in time order, interleaved.
    batches.sort(key=lambda batch: batch[0])
    return [event for _, event in batches], total


def records(invocation: Invocation) -> list[SpanRecord]:
    """The invocation's spans as the collector stores them (same mapping as ingest)."""
    service, function = names(invocation.resource, invocation.function)
    problems = Problems()
    return [to_record(s, invocation.resource, service, function, "layer", DEFAULT_LIMITS, problems)
            for s in invocation.spans]
