"""What the layer's safety pass costs on the hot path: scrub + cap + encode against encode alone.

`hoptrace.output.lines` (redaction by name families, UTF-8 repair, strict numbers, bounds, output cap,
then `hoptrace.wire.encode`) is measured side by side with bare `wire.encode` on the same spans, in
interleaved rounds, for a typical three-span invocation (an API Gateway request span and two SDK client
spans, a fresh request id every time so the value cache cannot hide the miss) — and `redact_text` on
typical free text.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from hoptrace import output, wire
from hoptrace.redaction import redact_text

TITLE = "Redaction and output safety on the hot path"
_SERVER = {"faas.trigger": "http", "hoptrace.trigger": "apigateway", "http.request.method": "GET",
           "http.route": "/orders/{id}", "url.path": "/orders/42", "url.query": "page=2&sort=asc",
           "server.address": "abc123.execute-api.us-east-1.amazonaws.com", "user_agent.original": "curl/8.5.0",
           "cloud.resource_id": "arn:aws:lambda:us-east-1:123456789012:function:orders",
           "faas.coldstart": False, "http.response.status_code": 200, "hoptrace.context_source": "apigateway.headers"}
_CLIENT = {"rpc.system": "aws-api", "rpc.service": "SQS", "rpc.method": "SendMessage",
           "messaging.destination.name": "payments", "server.address": "sqs.us-east-1.amazonaws.com"}
TEXTS = {
    "ARN (no pair)": "arn:aws:lambda:us-east-1:123456789012:function:orders",
    "exception message with a secret": "login failed for bob: password=hunter2 (attempt 3)",
    "stack trace, 10 frames": '  File "/var/task/app.py", line 12, in handler\n    raise ValueError("bad")\n' * 10,
}


def _spans(request: int) -> list[dict[str, Any]]:
    def span(index: int, attributes: dict[str, Any]) -> dict[str, Any]:
        return {"trace_id": "5759e988bd862e3fe1be46a994272793", "span_id": f"{index + 1:016x}",
                "parent_id": None if index == 0 else "0000000000000001", "name": "GET /orders/{id}",
                "kind": "server" if index == 0 else "client", "start": 1_700_000_000_000_000_000,
                "end": 1_700_000_000_002_000_000, "status": {"code": "unset"}, "attributes": dict(attributes)}
    spans = [span(0, _SERVER), span(1, _CLIENT), span(2, _CLIENT)]
    spans[0]["attributes"]["faas.invocation_id"] = f"c6af9ac6-7b61-11e6-9a41-{request:012d}"
    spans[1]["attributes"]["aws.request_id"] = f"5d1f8c2e-{request:012d}"
    return spans


def _per_call(work: Callable[[int], Any], calls: int, counter: list[int]) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        counter[0] += 1
        work(counter[0])
    return (time.perf_counter() - started) / calls * 1e6


def run(rounds: int = 0, warm: int = 0, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    rounds = rounds or (3 if quick else 15)
    calls = warm or (200 if quick else 2000)
    resource = {"service.name": "orders", "cloud.provider": "aws", "faas.name": "orders"}
    counter = [0]
    samples: dict[str, list[float]] = {"copy": [], "encode": [], "lines": []}
    text_samples: dict[str, list[float]] = {name: [] for name in TEXTS}
    for round_ in range(rounds):  # interleaved, so load drift hits every variant alike
        samples["copy"].append(_per_call(_spans, calls, counter))  # building the spans: the baseline
        samples["encode"].append(_per_call(lambda r: wire.encode(_spans(r), resource), calls, counter))
        samples["lines"].append(_per_call(lambda r: output.lines(_spans(r), dict(resource)), calls, counter))
        for name, text in TEXTS.items():
            text_samples[name].append(_per_call(lambda r, t=text: redact_text(f"{t} #{r}"), calls, counter))
        log(f"round {round_ + 1}/{rounds}")
    base = statistics.median(samples["copy"])
    encode = statistics.median(samples["encode"]) - base
    lines = statistics.median(samples["lines"]) - base
    return {"encode_us": encode, "lines_us": lines, "ratio": lines / encode, "rounds": rounds, "calls": calls,
            "texts": {name: statistics.median(values) for name, values in text_samples.items()}}


def markdown(result: dict[str, Any]) -> str:
    lines = ["| measured (median of interleaved rounds) | µs per call |", "|---|---|",
             f"| `wire.encode`, typical 3-span invocation | {result['encode_us']:.1f} |",
             f"| `output.lines` (scrub + cap + encode), same spans | {result['lines_us']:.1f} "
             f"(**{result['ratio']:.2f}x** encode alone) |"]
    lines += [f"| `redact_text`: {name} | {value:.1f} |" for name, value in result["texts"].items()]
    lines.append(f"\n{result['rounds']} rounds x {result['calls']} calls per variant.")
    return "\n".join(lines)
