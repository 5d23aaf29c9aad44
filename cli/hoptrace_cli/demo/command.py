"""`hoptrace demo`: start the demo shop in the local cloud with the collector, drive traffic, show what was traced.

Headless (`--duration N --no-dashboard`) it exits with a one-screen summary read back from the
store; interactively it runs until Ctrl-C. Each run gets its own data directory (see rundir).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hoptrace_cli import errors, flags, layerdir

from . import shop
from .rundir import DEFAULT_DATA_DIR, RunDir, new_run
from .traffic import TrafficGenerator, TrafficProfile

DEMO_ALERT_RULES = shop.ALERT_RULES
LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:hoptrace:1"
DLQS = ("PaymentsDLQ", "InventoryDLQ", "NotificationsDLQ")
STACK = "demo"
RETRY_DELAYS = (1.0, 2.0)  # async retries (AWS: about 1 and 2 minutes), short so failures show up in a short run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("run")
    run.add_argument("--duration", type=flags.SECONDS, default=None, metavar="SECONDS",
                     help="send traffic this long, then print the summary and exit (default: until Ctrl-C)")
    run.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard (headless)")
    run.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                     help=f"where runs are kept, one folder each (default {DEFAULT_DATA_DIR}; env HOPTRACE_DEMO_DIR)")
    run.add_argument("--port", type=flags.PORT, default=3000, help="port of the local API (0: any free port)")
    run.add_argument("--dashboard-port", type=flags.PORT, default=8501, help="port of the dashboard (0: any free port)")
    run.add_argument("--drain", type=flags.SECONDS_OR_ZERO, default=30.0, metavar="SECONDS",
                     help="after traffic stops, wait at most this long for retries, DLQs and the collector")
    run.add_argument("--report-every", type=flags.SECONDS, default=10.0, metavar="SECONDS",
                     help="how often the rate(1 minute) schedules fire locally (reports, DLQ watcher)")
    traffic = parser.add_argument_group("traffic")
    traffic.add_argument("--rate", type=flags.POSITIVE, default=4.0, help="requests per second between bursts")
    traffic.add_argument("--burst-every", type=flags.SECONDS_OR_ZERO, default=20.0, metavar="SECONDS",
                         help="0: no bursts")
    traffic.add_argument("--burst-size", type=flags.COUNT, default=12, help="requests sent at once in a burst")
    traffic.add_argument("--bad-request-rate", type=flags.FRACTION, default=0.05, help="share of invalid orders (400)")
    traffic.add_argument("--poison-rate", type=flags.FRACTION, default=0.02,
                         help="share of poison orders that pass validation and end in the payments DLQ")
    traffic.add_argument("--read-rate", type=flags.FRACTION, default=0.15, help="share of GET /orders/{id}")
    traffic.add_argument("--saga-rate", type=flags.FRACTION, default=0.15,
                         help="share of orders fulfilled by the order saga state machine")
    traffic.add_argument("--seed", type=int, default=None,
                         help="make the traffic mix repeatable (default: a new mix each run)")
    traffic.add_argument("--failure-burst-at", type=flags.SECONDS_OR_ZERO, default=None, metavar="SECONDS",
                         help="this many seconds in, send a burst of poison orders: payments' error rate spikes and "
                              "its DLQ grows, so the alerts fire (default: no burst)")
    traffic.add_argument("--failure-burst-size", type=flags.COUNT, default=30,
                         help="poison orders in the failure burst")
    alerts = parser.add_argument_group("alerts")
    alerts.add_argument("--alert-rules", type=Path, default=DEMO_ALERT_RULES, metavar="FILE",
                        help=f"the alert evaluator's rules (default: {DEMO_ALERT_RULES.name}, demo-sized windows)")
    alerts.add_argument("--alert-webhook-url", default="", metavar="URL",
                        help="also post alerts to this webhook (Slack incoming webhook or any JSON endpoint)")
    system = parser.add_argument_group("the services")
    system.add_argument("--payment-failure-rate", type=flags.FRACTION, default=0.1, help="share of declined payments")
    system.add_argument("--payment-latency-ms", type=flags.NON_NEGATIVE, default=40.0,
                        help="payment provider latency (mean)")
    system.add_argument("--notification-failure-rate", type=flags.FRACTION, default=0.2,
                        help="share of notification attempts that fail (async retries, then its DLQ)")


def _step(number: int, text: str) -> float:
    print(f"[{number}/4] {text}…", flush=True)
    return time.perf_counter()


def _done(started: float, detail: str = "") -> None:
    print(f"      done in {time.perf_counter() - started:.1f} s{'; ' + detail if detail else ''}", flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        from hoptrace_localcloud.cloud import LocalCloud
        profile = TrafficProfile(args.rate, args.burst_every, args.burst_size, args.bad_request_rate,
                                 args.poison_rate, args.read_rate, args.seed, args.failure_burst_at,
                                 args.failure_burst_size, args.saga_rate)
    except ImportError as exc:
        print(f"hoptrace demo needs the local cloud: pip install 'hoptrace[local]' ({exc})", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"hoptrace demo: {exc}", file=sys.stderr)
        return 2
    run_dir = new_run(args.data_dir)
    print(f"hoptrace demo: run folder {run_dir.path}")
    started = _step(1, "building the hoptrace layer and staging the shop")
    layerdir.assemble(run_dir.layer_dir)
    try:
        template = shop.stage(run_dir.app_dir)
    except shop.ShopError as exc:
        print(f"hoptrace demo: {exc}", file=sys.stderr)
        return 2
    _done(started, f"{run_dir.layer_dir}")
    config = cloud_config(run_dir, args)
    stop, interrupts = threading.Event(), []

    def interrupted(signum: int, _frame: Any) -> None:
        interrupts.append(signum)
        stop.set()
        if len(interrupts) > 1:
            raise KeyboardInterrupt  # a second Ctrl-C skips the drain

    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    cloud, dashboard = LocalCloud(template, config), None
    try:
        started = _step(2, f"starting the local cloud ({template.parent.name}/{template.name})")
        cloud.start()
        _done(started, f"{len(cloud.functions)} functions")
        if not args.no_dashboard:
            dashboard = _start_dashboard(run_dir, args.dashboard_port)
        _print_urls(cloud, run_dir, dashboard)
        code = _drive(cloud, run_dir, profile, args, stop)
        if dashboard is not None and not stop.is_set():
            print(f"\nThe dashboard stays open at {dashboard.url} (the local cloud too); Ctrl-C stops both.",
                  flush=True)
            stop.wait()
        return code
    except KeyboardInterrupt:
        print("\nstopping now (second Ctrl-C)", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI's last word: one clear line, and everything stopped
        print(f"hoptrace demo: {errors.describe(exc) or f'{type(exc).__name__}: {exc}'}", file=sys.stderr)
        return 1
    finally:
        print("stopping the local cloud…", file=sys.stderr, flush=True)
        if dashboard is not None:
            dashboard.stop()
        cloud.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cloud_config(run_dir: RunDir, args: argparse.Namespace) -> Any:
    """The local cloud's settings for a demo run in `run_dir` (also what `hoptrace bench soak` runs)."""
    from hoptrace_localcloud.config import LocalCloudConfig

    return LocalCloudConfig(
        stack_name=STACK, api_port=args.port, layer_dirs={LAYER_ARN: str(run_dir.layer_dir)},
        sqs_visibility_timeout=2, async_retry_delays=RETRY_DELAYS, schedule_time_scale=args.report_every / 60,
        parameters={
            "HoptraceLayerArn": LAYER_ARN, "StoreUrl": run_dir.store_url, "AllowTestClient": "true",
            "PaymentFailureRate": str(args.payment_failure_rate),
            "PaymentLatencyMs": str(args.payment_latency_ms),
            "NotificationFailureRate": str(args.notification_failure_rate),
            "AlertRules": str(args.alert_rules.resolve()), "AlertWebhookUrl": args.alert_webhook_url,
        },
    )


def _print_urls(cloud: Any, run_dir: RunDir, dashboard: Any) -> None:
    print(f"      API        {cloud.api_url}  (POST /orders, GET /orders/{{id}})")
    print(f"      AWS APIs   {cloud.endpoint_url}  (moto; AWS_ENDPOINT_URL for your own scripts)")
    print(f"      store      {run_dir.store_url}")
    if dashboard is not None:
        print(f"      dashboard  {dashboard.url}")
    for warning in cloud.warnings:
        print(f"      not emulated: {warning}")


def _start_dashboard(run_dir: RunDir, port: int) -> Any:
    """The dashboard over this run's store; a demo without it still runs (and says why)."""
    started = time.perf_counter()
    try:
        from hoptrace_dashboard.server import DashboardError, start_dashboard
    except ImportError as exc:
        print(f"      dashboard  not started: pip install 'hoptrace[dashboard]' ({exc})")
        return None
    print("      starting the dashboard…", flush=True)
    try:
        dashboard = start_dashboard(run_dir.store_url, port=port)
    except DashboardError as exc:
        print(f"      dashboard  not started: {exc}")
        return None
    _done(started)
    return dashboard


def _drive(cloud: Any, run_dir: RunDir, profile: TrafficProfile, args: argparse.Namespace,
           stop: threading.Event) -> int:
    from hoptrace_cli.alerts import demo_lines as alerts_summary
    from hoptrace_collector.store import open_store

    from .progress import Progress
    from .summary import build_report, render

    until = f"for {args.duration:.0f} s" if args.duration else "until Ctrl-C"
    started = _step(3, f"sending traffic {until}: {profile.rate:g} req/s, bursts of {profile.burst_size} "
                       f"every {profile.burst_every:g} s")
    since_ns = time.time_ns()
    generator = TrafficGenerator(cloud.api_url, profile, run_dir.traffic_log)
    sender = threading.Thread(target=generator.run, args=(args.duration, stop), name="traffic", daemon=True)
    sender.start()
    progress = Progress(run_dir.store_url, since_ns)
    while sender.is_alive():
        sender.join(5.0)
        if sender.is_alive():
            print(f"      {time.perf_counter() - started:5.0f} s  {progress.line(generator.stats)}", flush=True)
    seconds = time.perf_counter() - started
    _done(started, f"{generator.stats.total} requests")
    started = _step(4, "waiting for retries, dead-letter queues and the collector")
    depths = _drain(cloud, run_dir, generator, args.drain if not stop.is_set() else min(args.drain, 10.0))
    _done(started)
    store = open_store(run_dir.store_url)
    try:
        report = build_report(store, generator.stats, since_ns, time.time_ns(), seconds, depths)
    finally:
        store.close()
    print()
    print(render(report))
    print(alerts_summary(run_dir.store_url, since_ns))
    print(f"\nThe traffic generator's own log: {run_dir.traffic_log}")
    return 0


def _queue_depths(cloud: Any) -> dict[str, int]:
    sqs, depths = cloud.client("sqs"), {}
    for lid in DLQS:
        queue = cloud.resource(lid)
        answer = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"])
        depths[queue.name] = int(answer["Attributes"]["ApproximateNumberOfMessages"])
    return depths


def _drain(cloud: Any, run_dir: RunDir, generator: TrafficGenerator, budget: float) -> dict[str, int]:
    """Wait until the last orders' flows are whole, poison orders reached the DLQ and async retries had
    their time; then have the DLQ watcher record the DLQs now rather than at its next schedule."""
    from hoptrace_collector.store import StoreError, open_store

    from .summary import missing_parts, saga_outcome

    started = time.monotonic()
    retries_done = started + sum(RETRY_DELAYS) + 1.0
    poison = len(generator.stats.poisoned)
    # Every placed order and saga, each checked until it is whole (then never again), so a long run's
    # thousands of orders cost one look each.
    orders, sagas = list(generator.stats.placed), list(generator.stats.sagas)
    payments_dlq = cloud.resource("PaymentsDLQ").name
    store = None
    try:
        while time.monotonic() - started < budget:
            try:
                store = store or open_store(run_dir.store_url)
                orders = [sent for sent in orders if missing_parts(store, sent)]
                sagas = [sent for sent in sagas if not saga_outcome(store, sent.trace_id)]
                flows_whole = not orders and not sagas
            except StoreError:
                flows_whole = False
            if flows_whole and _queue_depths(cloud)[payments_dlq] >= poison and time.monotonic() >= retries_done:
                break
            time.sleep(0.5)
    finally:
        if store is not None:
            store.close()
    cloud.invoke("DlqWatcherFunction", {})
    return _queue_depths(cloud)
