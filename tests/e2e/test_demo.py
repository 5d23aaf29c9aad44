"""`hoptrace demo` headless, for real: the shop runs in the local cloud, the collector stores what the layer
wrote, and the store alone must tell each request's whole story across every kind of hop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hoptrace_cli.demo.traffic import Sent, read_log
from hoptrace_collector.store import SpanRecord, open_store
from hoptrace_collector.store.links import trace_links
from hoptrace_dashboard import flow, queries
from hoptrace_dashboard.tracelogs import trace_logs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEMO_FUNCTIONS = {"demo-orders-api", "demo-order-status", "demo-payments", "demo-inventory", "demo-invoices",
                  "demo-notifications", "demo-reports", "demo-archiver", "demo-analytics"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = tmp_path_factory.mktemp("demo")
    command = [sys.executable, "-m", "hoptrace_cli.main", "demo", "--duration", "12", "--no-dashboard",
               "--port", "0", "--data-dir", str(data), "--seed", "7", "--rate", "3", "--burst-every", "5",
               "--burst-size", "4", "--report-every", "4", "--payment-failure-rate", "0",
               "--notification-failure-rate", "0", "--drain", "180"]
    # The drain ends as soon as the last flows are whole and the poison orders are in the DLQ (seconds on an
    # idle machine); its budget is for a loaded one, where three receives and the collector take longer.
    done = subprocess.run(command, capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = Path((data / "latest").read_text().strip())
    return run_dir, done.stdout


def _one(spans: list[SpanRecord], what: str, **match: object) -> SpanRecord:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert found, f"no {what} in {[(s.function, s.name, s.kind) for s in spans]}"
    return found[0]


def _placed(run_dir: Path) -> list[Sent]:
    return [s for s in read_log(run_dir / "traffic.jsonl") if s.kind == "order" and s.status == 201]


def test_one_request_is_one_trace_across_every_hop(demo_run: tuple[Path, str]) -> None:
    run_dir, _ = demo_run
    store = open_store(f"sqlite:///{run_dir / 'spans.db'}")
    # GIVEN an order the traffic generator placed (every payment succeeds in this run)
    sent = _placed(run_dir)[0]
    spans = store.get_trace(sent.trace_id)
    by_id = {s.span_id: s for s in spans}
    # THEN its trace holds the work of every service it crossed
    assert {"orders", "payments", "inventory", "invoices", "notifications"} <= {s.service for s in spans}
    # API Gateway: the orders API continues the client's traceparent
    api = _one(spans, "POST /orders server span", name="POST /orders", kind="server")
    assert api.parent_id == sent.parent_span_id and api.cold_start in (True, False)
    # SNS: the publish is a child of the API invocation
    publish = _one(spans, "SNS publish", kind="producer", function="demo-orders-api")
    assert by_id[publish.parent_id].span_id == api.span_id
    # SNS -> SQS (enveloped) and SNS -> SQS (raw): both consumers continue from the publish
    for function in ("demo-payments", "demo-inventory"):
        consumer = _one(spans, f"{function} consumer", kind="consumer", function=function)
        assert consumer.parent_id == publish.span_id, function
    # HTTP: inventory's GET reaches the orders API as a child of its client span
    http_client = next(s for s in spans if s.function == "demo-inventory" and s.kind == "client"
                       and s.attributes.get("http.request.method") == "GET")
    assert http_client.attributes["url.full"].endswith(f"/orders/{sent.order_id}")
    get_order = _one(spans, "GET /orders/{id}", kind="server", name="GET /orders/{id}")
    assert get_order.parent_id == http_client.span_id
    # EventBridge: payments -> invoices -> notifications, each a child of the PutEvents that sent it
    for producer, consumer in (("demo-payments", "demo-invoices"), ("demo-invoices", "demo-notifications")):
        put_events = [s for s in spans if s.function == producer and s.attributes.get("rpc.method") == "PutEvents"]
        invocation = _one(spans, f"{consumer} invocation", function=consumer, parent_id=put_events[0].span_id)
        assert invocation.attributes.get("faas.trigger") == "pubsub"


def test_an_orders_flow_stays_one_picture_through_its_table_stream_and_receipt(demo_run: tuple[Path, str]) -> None:
    run_dir, _ = demo_run
    store = open_store(f"sqlite:///{run_dir / 'spans.db'}")
    # GIVEN a placed order: its item went to the orders table, its receipt to S3
    sent = _placed(run_dir)[0]
    own = {s.span_id: s for s in store.get_trace(sent.trace_id)}
    # THEN the stream's analytics and the receipt's archiver are linked to the very spans that wrote
    consumers = {}
    for link in trace_links(store, sent.trace_id):
        writer = own.get(link.producer_span_id)
        if writer is not None:
            reader = next(s for s in store.get_trace(link.consumer_trace_id) if s.span_id == link.consumer_span_id)
            consumers.setdefault((writer.function, writer.attributes.get("rpc.method")), set()).add(reader.function)
    assert "demo-analytics" in consumers[("demo-orders-api", "PutItem")]
    assert consumers[("demo-invoices", "PutObject")] == {"demo-archiver"}
    # AND the dashboard draws one flow: both consumers hang under those writes, reached by their hops
    rebuilt = flow.build(queries.trace_spans(store, sent.trace_id))
    assert rebuilt is not None and rebuilt.trace_id == sent.trace_id
    assert {"orders", "payments", "invoices", "analytics", "archiver"} <= set(rebuilt.services)
    assert {"DynamoDB Streams", "S3"} <= set(rebuilt.hops["hop"])
    roots = rebuilt.rows[rebuilt.rows["depth"] == 0]
    assert set(roots["service"]) == {"orders"}, roots[["service", "name"]]


def test_every_function_recorded_a_cold_start(demo_run: tuple[Path, str]) -> None:
    run_dir, _ = demo_run
    store = open_store(f"sqlite:///{run_dir / 'spans.db'}")
    cold = {s.function for s in store.spans(cold_starts_only=True, limit=10_000)}
    assert cold >= DEMO_FUNCTIONS


def test_poison_orders_reach_the_payments_dlq_with_their_trace(demo_run: tuple[Path, str]) -> None:
    run_dir, stdout = demo_run
    store = open_store(f"sqlite:///{run_dir / 'spans.db'}")
    poison = {s.trace_id for s in read_log(run_dir / "traffic.jsonl") if s.kind == "poison" and s.status == 201}
    dlq = [m for m in store.dlq_messages() if "PaymentsDLQ" in m.queue]
    assert poison and dlq
    assert {m.trace_id for m in dlq} <= poison and any(m.receive_count >= 3 for m in dlq)
    # AND the failed processing that put it there is in the same trace
    failed = [s for s in store.get_trace(dlq[0].trace_id) if s.function == "demo-payments" and s.status == "error"]
    assert len(failed) >= 3
    # AND the cause the payments handler printed is stored with the invocations, tied to the failed record
    logs = trace_logs(store, store.get_trace(dlq[0].trace_id))
    causes = [line.message for span in failed for line in logs.cause(span)]
    assert causes and all("cannot charge message" in c and "has amount -" in c for c in causes), causes
    # AND the summary says so
    assert "dead-letter queues" in stdout and "PaymentsDLQ" in stdout


def test_every_placed_order_is_traced_through_its_services(demo_run: tuple[Path, str]) -> None:
    run_dir, stdout = demo_run
    placed = _placed(run_dir)
    assert f"order flows   {len(placed)}/{len(placed)} placed orders" in stdout


def test_interactive_demo_serves_the_dashboard_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    import signal
    import time
    import urllib.request

    # GIVEN `hoptrace demo` with its dashboard
    command = [sys.executable, "-m", "hoptrace_cli.main", "demo", "--duration", "3", "--port", "0",
               "--dashboard-port", "0", "--data-dir", str(tmp_path), "--drain", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines, url = [], None
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip().startswith("dashboard  http"):
                url = line.split()[1]
            if "stays open" in line:
                break
        # THEN the dashboard answers on the printed URL after the summary
        assert url, "".join(lines)
        assert "order flows" in "".join(lines)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        started = _descendants(process.pid)
        assert len(started) >= 3  # moto, the dashboard, function workers
        # WHEN the user presses Ctrl-C
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    # AND nothing it started is left behind (its children may take a moment to be reaped on a busy machine)
    deadline = time.monotonic() + 30
    while (left := [pid for pid in started if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
