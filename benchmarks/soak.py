"""`hoptrace bench soak`: the demo at the highest request rate the local cloud sustains here, held for a long time.

The same shop `hoptrace demo` runs (demo_services/template.yaml, the demo's own settings, its traffic
generator and `traffic.jsonl`) is first ramped — 2, 4, 8, 16 requests/s for 20 s each. A rate counts
as sustained when every request was answered without a 5xx, the generator kept its pace, the p95
latency stayed under `P95_LIMIT_MS`, and the collector stored every placed order's whole flow within
`LAG_LIMIT_S`. The highest sustained rate is then held for `soak_seconds` (600 by default;
`--soak-seconds`), judged every `WINDOW_S` by the same rules: a short ramp step cannot show what only
builds up over minutes. When the hold degrades, it is stopped, checked, and the next lower rate is
held in a fresh local cloud. At the end of every hold, read back from the store:

- every request the generator logged as answered has its trace, and every 201 order its whole flow
  (`summary.FLOW`: orders, payments, inventory, notifications);
- every span any function logged (collected from the local cloud's log store as it was written) is
  in the store: "spans lost" must be 0, overloaded or not.

Not part of a plain `hoptrace bench` (it takes about 15 minutes): `hoptrace bench soak`.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hoptrace import wire
from hoptrace_cli import layerdir
from hoptrace_cli.demo import command, shop
from hoptrace_cli.demo.progress import Progress
from hoptrace_cli.demo.rundir import RunDir, new_run
from hoptrace_cli.demo.summary import missing_services
from hoptrace_cli.demo.traffic import Sent, TrafficGenerator, TrafficProfile, read_log
from hoptrace_collector.ingest.batch import span_text
from hoptrace_collector.store import Store, open_store

TITLE = "Soak: the demo at the highest rate the local cloud sustains"
RAMP = (2.0, 4.0, 8.0, 16.0)
STEP_S = 20.0
SOAK_S = 600.0
WINDOW_S = 30.0
QUICK = {"ramp": (2.0, 4.0), "step_seconds": 5.0, "soak_seconds": 10.0}  # proves the machinery (CI)
P95_LIMIT_MS = 1500.0
LAG_LIMIT_S = 15.0
PACE = 0.9  # a step or window must send at least this share of its target rate
SEED = 7

SpanKey = tuple[str, str]
Log = Callable[[str], None]


class SpanTally:
    """A listener on the local cloud's log store: every span any function writes, by (trace id, span id).

    It reads the same lines the log router hands the collector, as they are written, so what the
    functions logged can be compared with what the collector stored without trusting either side.
    """

    def __init__(self) -> None:
        self.keys: set[SpanKey] = set()
        self.bad_lines = 0
        self._parts = wire.Reassembler()
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        text = span_text(event.message)
        if text is None:
            return
        with self._lock:
            try:
                if text.startswith(wire.PART_PREFIX):
                    text = self._parts.feed(text)
                    if text is None:
                        return
                _, spans, problems = wire.decode(text)
            except wire.WireError:
                self.bad_lines += 1
                return
            self.bad_lines += bool(problems)
            self.keys.update((s["trace_id"], s["span_id"]) for s in spans)


@dataclass
class Step:
    """One ramp step: `rate` asked for `seconds`, and what came of it."""

    rate: float
    seconds: float
    requests: int = 0
    achieved: float = 0.0
    errors: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    placed: int = 0
    lag_s: float | None = None  # seconds after the step until every placed order's flow was stored
    sustained: bool = False


@dataclass
class Checks:
    """A local cloud's whole run, read back from the store, against the generator's log and the functions' logs."""

    requests: int = 0
    answered: int = 0
    errors: int = 0  # no answer, or a 5xx
    traced: int = 0  # answered requests whose trace is in the store
    placed: int = 0
    complete: int = 0  # 201 orders whose whole flow is in the store
    incomplete: list[str] = field(default_factory=list)
    spans_logged: int = 0
    spans_stored: int = 0
    spans_lost: int = 0
    bad_lines: int = 0


@dataclass
class Hold:
    rate: float
    planned_s: float
    held_s: float = 0.0
    traffic: Step | None = None
    degraded: str = ""  # why the hold was stopped early; empty when it held to the end
    checks: Checks | None = None


@dataclass
class SoakResult:
    ramp: list[Step] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    rate: float = 0.0  # the rate held for the whole duration; 0 when none was
    seconds: float = 0.0


def run(log: Log = print, quick: bool = False, soak_seconds: float | None = None,
        ramp: tuple[float, ...] | None = None, step_seconds: float | None = None) -> dict[str, Any]:
    """Ramp, hold (stepping down when a hold degrades), check; the figures as a dict (`markdown` renders them).

    `quick` is CI's short version: 2 and 4 req/s for 5 s, then 10 s of hold.
    """
    rates = ramp or (QUICK["ramp"] if quick else RAMP)
    step_s = step_seconds or (QUICK["step_seconds"] if quick else STEP_S)
    hold_s = soak_seconds or (QUICK["soak_seconds"] if quick else SOAK_S)
    result, started = SoakResult(), time.monotonic()
    with _session(log) as session:
        _ramp(session, rates, step_s, result, log)  # type: ignore[arg-type]
        candidates = [step.rate for step in reversed(result.ramp) if step.sustained] or [rates[0]]  # type: ignore[index]
        result.holds.append(_hold(session, candidates[0], hold_s, log))  # type: ignore[arg-type]
    for rate in candidates[1:]:
        if not result.holds[-1].degraded:
            break
        log(f"soak: {result.holds[-1].rate:g} req/s did not hold; holding {rate:g} req/s in a fresh local cloud")
        with _session(log) as session:
            result.holds.append(_hold(session, rate, hold_s, log))  # type: ignore[arg-type]
    result.rate = next((hold.rate for hold in result.holds if not hold.degraded), 0.0)
    result.seconds = round(time.monotonic() - started, 1)
    return asdict(result)


@dataclass
class _Session:
    cloud: Any
    run_dir: RunDir
    store: Store
    tally: SpanTally


@contextmanager
def _session(log: Log) -> Iterator[_Session]:
    """A fresh demo in the local cloud (its own run folder in a scratch directory), everything stopped after."""
    from hoptrace_localcloud.cloud import LocalCloud

    scratch = Path(tempfile.mkdtemp(prefix="hoptrace-soak-"))
    run_dir = new_run(scratch)
    layerdir.assemble(run_dir.layer_dir)
    template = shop.stage(run_dir.app_dir)
    cloud, tally = LocalCloud(template, command.cloud_config(run_dir, demo_arguments())), SpanTally()
    try:
        cloud.start()
        cloud.logs.add_listener(tally)
        log(f"soak: local cloud up ({len(cloud.functions)} functions), run folder {run_dir.path}")
        store = open_store(run_dir.store_url)
        try:
            yield _Session(cloud, run_dir, store, tally)
        finally:
            store.close()
    finally:
        cloud.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def demo_arguments(*extra: str) -> argparse.Namespace:
    """`hoptrace demo`'s own defaults (headless, any free port), so the soak runs exactly the demo's settings."""
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(["--no-dashboard", "--port", "0", *extra])


def _start(session: _Session, rate: float, seconds: float, seed: int) -> tuple[TrafficGenerator, threading.Thread,
                                                                               threading.Event]:
    """The demo's traffic at a steady `rate` (no bursts) for `seconds`, appended to the run's traffic.jsonl."""
    generator = TrafficGenerator(session.cloud.api_url, TrafficProfile(rate=rate, burst_every=0, seed=seed),
                                 session.run_dir.traffic_log, max_in_flight=64)
    stop = threading.Event()
    sender = threading.Thread(target=generator.run, args=(seconds, stop), name="soak-traffic", daemon=True)
    sender.start()
    return generator, sender, stop


def _since(session: _Session, begun: float, until: float | None = None) -> list[Sent]:
    return [s for s in read_log(session.run_dir.traffic_log) if s.time >= begun and (until is None or s.time < until)]


def _measure(step: Step, sent: list[Sent]) -> Step:
    latencies = sorted(s.latency_ms for s in sent)
    step.requests = len(sent)
    step.achieved = round(len(sent) / step.seconds, 2) if step.seconds else 0.0
    step.errors = sum(1 for s in sent if s.status == 0 or s.status >= 500)
    step.p50_ms, step.p95_ms, step.p99_ms = (_percentile(latencies, p) for p in (50, 95, 99))
    step.placed = sum(1 for s in sent if s.kind == "order" and s.status == 201)
    return step


def _verdict(step: Step) -> str:
    """Why a step or window does not count as sustained (pace, failures, latency); empty when it does."""
    if step.achieved < PACE * step.rate:
        return f"sent {step.achieved:g}/s of {step.rate:g}"
    if step.errors:
        return f"{step.errors} requests failed"
    if step.p95_ms > P95_LIMIT_MS:
        return f"p95 {step.p95_ms:.0f} ms"
    return ""


def _ramp(session: _Session, rates: tuple[float, ...], seconds: float, result: SoakResult, log: Log) -> None:
    for index, rate in enumerate(rates):
        begun = time.time()
        _, sender, _ = _start(session, rate, seconds, SEED + index)
        sender.join()
        step = _measure(Step(rate, seconds), _since(session, begun))
        step.lag_s = _catch_up(session.store, _placed(_since(session, begun)), LAG_LIMIT_S)
        step.sustained = not _verdict(step) and step.lag_s is not None
        result.ramp.append(step)
        stored = f"after {step.lag_s:.1f} s" if step.lag_s is not None else "NOT within the limit"
        log(f"soak: ramp {rate:g} req/s: sent {step.achieved:g}/s, p95 {step.p95_ms:.0f} ms, errors {step.errors}, "
            f"flows stored {stored} -> {'sustained' if step.sustained else 'not sustained'}")
        if not step.sustained:
            break


def _hold(session: _Session, rate: float, seconds: float, log: Log) -> Hold:
    """Hold `rate`, judging each window; stop early when one degrades. Then drain and check the whole run."""
    log(f"soak: holding {rate:g} req/s for {seconds:.0f} s")
    hold, begun = Hold(rate, seconds), time.time()
    generator, sender, stop = _start(session, rate, seconds, SEED + 100)
    progress = Progress(session.run_dir.store_url, time.time_ns())
    window_start, earlier = begun, []
    while sender.is_alive():
        sender.join(WINDOW_S - (time.time() - window_start))
        now = time.time()
        if not sender.is_alive() or now - window_start < WINDOW_S:
            continue
        window = _measure(Step(rate, now - window_start), _since(session, window_start, now))
        reason = _verdict(window) or _late_flows(session.store, earlier)
        log(f"soak:   {now - begun:4.0f} s  {window.achieved:g} req/s, p95 {window.p95_ms:.0f} ms, "
            f"{progress.line(generator.stats)}" + (f"  DEGRADED: {reason}" if reason else ""))
        if reason:
            hold.degraded = f"after {now - begun:.0f} s: {reason}"
            stop.set()
            sender.join()
            break
        earlier, window_start = _placed(_since(session, window_start, now)), now
    hold.held_s = round(time.time() - begun, 1)
    hold.traffic = _measure(Step(rate, hold.held_s), _since(session, begun))
    if not hold.degraded and _verdict(hold.traffic):
        hold.degraded = f"over the whole hold: {_verdict(hold.traffic)}"
    # The demo's own drain: the last flows whole, poison orders in their DLQ, async retries done.
    command._drain(session.cloud, session.run_dir, generator, 60.0)
    hold.checks = _check(session, log)
    return hold


def _late_flows(store: Store, orders: list[Sent]) -> str:
    """Orders of the window before are at least `WINDOW_S` old: their flows must be whole in the store by now.

    Up to 40 of them are checked; the answer names the services still missing, which tells a pipeline that
    fell behind (a queue's consumer) from a collector that did (every service late).
    """
    missing: dict[str, int] = {}
    for order in orders[:: max(1, len(orders) // 40)]:
        for service in missing_services(store, order.trace_id):
            missing[service] = missing.get(service, 0) + 1
    if not missing:
        return ""
    late = ", ".join(f"{service} {count}" for service, count in sorted(missing.items()))
    return f"order flows not whole after {WINDOW_S:.0f} s (missing: {late})"


def _placed(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.kind == "order" and s.status == 201]


def _catch_up(store: Store, placed: list[Sent], limit_s: float) -> float | None:
    """Seconds until every placed order's whole flow is stored, or None when it takes longer than `limit_s`."""
    begun, waiting = time.monotonic(), list(placed)
    while True:
        waiting = [s for s in waiting if missing_services(store, s.trace_id)]
        elapsed = time.monotonic() - begun
        if not waiting:
            return round(elapsed, 1)
        if elapsed >= limit_s:
            return None
        time.sleep(0.5)


def _check(session: _Session, log: Log) -> Checks:
    """Everything the generator logged against everything the store holds; every logged span against the store."""
    checks, tally, db = Checks(), session.tally, session.run_dir.store_path
    deadline = time.monotonic() + 60
    while tally.keys - _stored_keys(db) and time.monotonic() < deadline:
        time.sleep(1.0)  # the collector's last batches
    stored = _stored_keys(db)
    sent = read_log(session.run_dir.traffic_log)
    answered = [s for s in sent if s.status]
    checks.requests, checks.answered = len(sent), len(answered)
    checks.errors = sum(1 for s in sent if s.status == 0 or s.status >= 500)
    traces = {trace for trace, _ in stored}
    checks.traced = sum(1 for s in answered if s.trace_id in traces)
    placed = _placed(answered)
    checks.placed = len(placed)
    for order in placed:
        missing = missing_services(session.store, order.trace_id)
        if missing:
            checks.incomplete.append(f"{order.trace_id} (missing {', '.join(missing)})")
    checks.complete = checks.placed - len(checks.incomplete)
    checks.spans_logged, checks.spans_stored = len(tally.keys), len(stored)
    checks.spans_lost = len(tally.keys - stored)
    checks.bad_lines = tally.bad_lines
    log(f"soak: {checks.requests} requests, {checks.traced}/{checks.answered} answered requests traced, "
        f"{checks.complete}/{checks.placed} order flows complete, {checks.spans_logged} spans logged, "
        f"{checks.spans_lost} lost")
    return checks


def _stored_keys(db: Path) -> set[SpanKey]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return {(t, s) for t, s in conn.execute("SELECT trace_id, span_id FROM spans")}


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


def markdown(result: dict[str, Any]) -> str:
    lines = ["The demo shop in the local cloud (`hoptrace demo`'s template and settings, steady traffic without "
             "bursts). A rate is sustained when no request failed, the generator kept 90 % of its pace, p95 stayed "
             f"under {P95_LIMIT_MS:.0f} ms and the collector stored every order's whole flow within "
             f"{LAG_LIMIT_S:.0f} s; a hold is judged every {WINDOW_S:.0f} s the same way.", "",
             "| ramp step | sent | p50 | p95 | errors | flows stored after | sustained |",
             "|---|---|---|---|---|---|---|"]
    for step in result["ramp"]:
        lag = f"{step['lag_s']:.1f} s" if step["lag_s"] is not None else f"> {LAG_LIMIT_S:.0f} s"
        lines.append(f"| {step['rate']:g} req/s | {step['achieved']:g}/s | {step['p50_ms']:.0f} ms | "
                     f"{step['p95_ms']:.0f} ms | {step['errors']} | {lag} | {'yes' if step['sustained'] else 'no'} |")
    lines += ["", "| hold | held | requests | sent | p50 | p95 | p99 | result | answered requests traced | "
                  "order flows complete | spans logged | spans lost |", "|---" * 12 + "|"]
    for hold in result["holds"]:
        t, c = hold["traffic"], hold["checks"]
        lines.append(f"| {hold['rate']:g} req/s | {hold['held_s']:.0f} of {hold['planned_s']:.0f} s | "
                     f"{t['requests']} | {t['achieved']:g}/s | {t['p50_ms']:.0f} ms | {t['p95_ms']:.0f} ms | "
                     f"{t['p99_ms']:.0f} ms | "
                     f"{'degraded ' + hold['degraded'] if hold['degraded'] else 'held'} | "
                     f"{c['traced']} / {c['answered']} | {c['complete']} / {c['placed']} | {c['spans_logged']} | "
                     f"**{c['spans_lost']}** |")
    held = result["rate"]
    lines += ["", f"Highest rate held for the whole duration: **{held:g} req/s**." if held else
              "No rate held for the whole duration.", f"{result['seconds']:.0f} s in all (the checks cover each "
              "local cloud's whole run: ramp and hold, or the hold alone)."]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(markdown(run(quick="--quick" in sys.argv)))
