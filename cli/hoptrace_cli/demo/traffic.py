"""The demo's traffic generator: a steady, realistic mix with bursts, bad requests and poison orders.

Every request carries a `traceparent` the generator made, and every request is written to
`traffic.jsonl` (time, kind, HTTP status, trace id, order id), so whatever the store shows can
be checked against what was actually sent.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hoptrace.propagation import new_span_id, new_trace_id

TEST_CLIENT_HEADER = "x-demo-test-client"  # demo_services/orders/api.py lets it skip validation
SKUS = ("book", "lamp", "mug", "chair", "desk", "pen", "kettle", "rug")
CUSTOMERS = ("ada", "grace", "linus", "barbara", "ken", "margaret", "edsger", "radia")
BAD_BODIES = (
    b"{not json",
    json.dumps({"items": [{"sku": "book", "qty": 1}], "amount": 12}).encode(),  # no customer
    json.dumps({"customer": "ada", "items": [{"sku": "book", "qty": 0}], "amount": 12}).encode(),
    json.dumps({"customer": "ada", "items": [], "amount": 12}).encode(),
    json.dumps({"customer": "ada", "items": [{"sku": "book", "qty": 1}], "amount": -3}).encode(),
)
# The first requests of every run show each path once, so even a short run has all of them.
TOUR = ("order", "bad", "poison", "saga", "order", "saga_retry", "saga_declined", "read")
# Saga orders pay with a provider test token (demo_services/payments/charge.py): charged, busy once, declined.
SAGA_TOKENS = {"saga": "tok_visa", "saga_retry": "tok_providerBusy", "saga_declined": "tok_chargeDeclined"}
FAILURE_STEP = 5  # poison orders sent at once during a failure burst


@dataclass(frozen=True)
class TrafficProfile:
    rate: float = 4.0  # requests per second between bursts
    burst_every: float = 20.0  # seconds between bursts; 0 turns bursts off
    burst_size: int = 12  # requests sent at once in a burst (concurrency -> cold starts)
    bad_request_rate: float = 0.05
    poison_rate: float = 0.02
    read_rate: float = 0.15
    seed: int | None = None
    failure_burst_at: float | None = None  # seconds into the run: send a burst of poison orders (alerts demo)
    failure_burst_size: int = 30
    saga_rate: float = 0.15  # orders fulfilled by the order saga state machine (a tenth of them declined)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        if self.failure_burst_at is not None and self.failure_burst_at < 0:
            raise ValueError("failure-burst-at must be 0 or more seconds")
        if self.failure_burst_size < 1:
            raise ValueError("failure-burst-size must be at least 1")
        for name in ("bad_request_rate", "poison_rate", "read_rate", "saga_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name.replace('_', '-')} must be between 0 and 1")
        if self.bad_request_rate + self.poison_rate + self.read_rate + self.saga_rate > 1:
            raise ValueError("bad-request, poison, read and saga rates must add up to at most 1")


@dataclass(frozen=True)
class Sent:
    time: float
    kind: str  # order | bad | poison | read | saga | saga_retry | saga_declined
    status: int  # HTTP status, 0 when the request failed before an answer
    latency_ms: float
    trace_id: str
    parent_span_id: str  # the span id the generator sent in its traceparent
    order_id: str | None = None
    error: str = ""


@dataclass
class TrafficStats:
    by_kind: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    placed: list[Sent] = field(default_factory=list)  # 201s, normal orders
    poisoned: list[Sent] = field(default_factory=list)  # 201s, poison orders
    sagas: list[Sent] = field(default_factory=list)  # 201s, orders fulfilled by the order saga

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


class TrafficGenerator:
    def __init__(self, api_url: str, profile: TrafficProfile, log_path: Path, max_in_flight: int = 32) -> None:
        self.api_url = api_url.rstrip("/")
        self.profile = profile
        self.stats = TrafficStats()
        self._log = log_path.open("a", buffering=1)
        self._lock = threading.Lock()
        self._random = random.Random(profile.seed)
        self._pool = ThreadPoolExecutor(max_in_flight, thread_name_prefix="traffic")
        self._order_ids: list[str] = []

    def run(self, duration: float | None, stop: threading.Event) -> None:
        """Send until `duration` seconds passed (None: until `stop` is set); waits for answers in flight."""
        profile, started = self.profile, time.monotonic()
        next_send, next_burst = started, started + profile.burst_every
        failure_due = None if profile.failure_burst_at is None else started + profile.failure_burst_at
        failure_left = profile.failure_burst_size
        tour = list(TOUR)
        try:
            while not stop.is_set():
                now = time.monotonic()
                if duration is not None and now - started >= duration:
                    break
                if failure_due is not None and now >= failure_due:
                    # Poison orders pass validation and fail every payment attempt: payments' error rate
                    # spikes now, and after three receives each lands in the payments DLQ. Sent FAILURE_STEP
                    # at a time, 0.1 s apart, so the local API's listen backlog does not reset connections.
                    for _ in range(min(FAILURE_STEP, failure_left)):
                        self._pool.submit(self._send, "poison")
                    failure_left -= FAILURE_STEP
                    failure_due = now + 0.1 if failure_left > 0 else None
                if profile.burst_every and now >= next_burst:
                    for _ in range(profile.burst_size):
                        self._pool.submit(self._send, "order")
                    next_burst += profile.burst_every
                if now >= next_send:
                    self._pool.submit(self._send, tour.pop(0) if tour else self._pick())
                    next_send += 1 / profile.rate
                stop.wait(max(0.0, min(next_send, next_burst if profile.burst_every else next_send,
                                        failure_due or next_send) - now))
        finally:
            # Sends still queued behind a saturated pool were never sent: drop them. Waiting for them too made a
            # demo whose API stopped answering (30 s per request) run on long past its duration and past Ctrl-C.
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._log.close()

    def _pick(self) -> str:
        roll, p = self._random.random(), self.profile
        if roll < p.bad_request_rate:
            return "bad"
        if roll < p.bad_request_rate + p.poison_rate:
            return "poison"
        if roll < p.bad_request_rate + p.poison_rate + p.read_rate and self._order_ids:
            return "read"
        if roll < p.bad_request_rate + p.poison_rate + p.read_rate + p.saga_rate:
            second = self._random.random()
            return "saga_declined" if second < 0.1 else "saga_retry" if second < 0.2 else "saga"
        return "order"

    def _send(self, kind: str) -> None:
        trace_id, span_id = f"{new_trace_id():032x}", f"{new_span_id():016x}"
        headers = {"Content-Type": "application/json", "traceparent": f"00-{trace_id}-{span_id}-01",
                   "User-Agent": "hoptrace-demo-traffic"}
        with self._lock:
            body, path, method = self._request_for(kind, headers)
        request = urllib.request.Request(self.api_url + path, data=body, method=method, headers=headers)
        started, status, answer, error = time.perf_counter(), 0, {}, ""
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            status, error = exc.code, exc.read()[:200].decode(errors="replace")
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        sent = Sent(time.time(), kind, status, round((time.perf_counter() - started) * 1000, 2), trace_id, span_id,
                    answer.get("order_id") if isinstance(answer, dict) else None, error)
        self._record(sent)

    def _request_for(self, kind: str, headers: dict[str, str]) -> tuple[bytes | None, str, str]:
        if kind == "read":
            return None, f"/orders/{self._random.choice(self._order_ids[-50:])}", "GET"
        if kind == "bad":
            return self._random.choice(BAD_BODIES), "/orders", "POST"
        order: dict[str, Any] = {
            "customer": self._random.choice(CUSTOMERS),
            "items": [{"sku": sku, "qty": self._random.randint(1, 3)}
                      for sku in self._random.sample(SKUS, self._random.randint(1, 3))],
            "amount": round(self._random.uniform(5, 250), 2),
        }
        if kind == "poison":
            order["amount"] = -order["amount"]
            headers[TEST_CLIENT_HEADER] = "poison"
        if kind in SAGA_TOKENS:
            order.update(checkout="saga", payment_token=SAGA_TOKENS[kind])
        return json.dumps(order).encode(), "/orders", "POST"

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self._log.write(json.dumps(asdict(sent)) + "\n")
            self.stats.by_kind[sent.kind] += 1
            self.stats.by_status[sent.status] += 1
            if sent.status == 201 and sent.order_id:
                self._order_ids.append(sent.order_id)
                target = self.stats.poisoned if sent.kind == "poison" else self.stats.sagas \
                    if sent.kind in SAGA_TOKENS else self.stats.placed
                target.append(sent)


def read_log(path: Path) -> list[Sent]:
    """The generator's record of a run (lines cut short by a crash are skipped)."""
    sent = []
    for line in path.read_text().splitlines():
        try:
            sent.append(Sent(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return sent
