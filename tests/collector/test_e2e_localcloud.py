"""The real collector function in the local cloud, subscribed to traced functions' log groups.

Functions run as worker processes with the hoptrace layer attached (handler redirect), print
their span lines and the platform lines into their log groups, and the local cloud's log
router delivers CloudWatch-Logs-shaped batches to the collector function — itself a worker
running `hoptrace_collector.handler.handler` from a layer, writing to a SQLite file. The
assertions read only that store.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

import hoptrace
import hoptrace_collector
from hoptrace_collector.store import Store, TraceFilter, open_store
from hoptrace_localcloud.cloud import LocalCloud

pytestmark = pytest.mark.e2e

HEAD = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  StoreUrl: {Type: String}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
Resources:
  HoptraceLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  CollectorLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: collector_layer/}
"""
ORDERS = """  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: orders
      CodeUri: orders/
      Handler: hoptrace.handler.handler
      Layers: [!Ref HoptraceLayer]
      Environment: {Variables: {HOPTRACE_HANDLER: app.handler}}
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: slow
      CodeUri: orders/
      Handler: hoptrace.handler.handler
      Timeout: 3
      Layers: [!Ref HoptraceLayer]
      # The watchdog's pending span must be written between its alarm and the kill: the layer's default margin
      # (200 ms) is for Lambda's own sandbox, and on two cores at load 50 a process can wait longer for the CPU.
      Environment: {Variables: {HOPTRACE_HANDLER: app.slow, HOPTRACE_TIMEOUT_MARGIN_MS: "2000"}}
  OrdersLogs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${OrdersFunction}"}
  SlowLogs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${SlowFunction}"}
"""


def collector_function(*subscribed: str) -> str:
    """The collector function, subscribed (every line: pattern "") to the `<name>Logs` log groups."""
    return ("""  CollectorFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: collector/
      Handler: hoptrace_collector.handler.handler
      Layers: [!Ref CollectorLayer]
      Environment: {Variables: {HOPTRACE_STORE: !Ref StoreUrl}}
      Events:
""" + "".join(f"        {name}: {{Type: CloudWatchLogs, Properties: {{LogGroupName: !Ref {name}Logs, "
              "FilterPattern: ''}}\n" for name in subscribed))


TEMPLATE = HEAD + ORDERS + collector_function("Orders", "Slow")
APP = """
import time
def handler(event, context):
    return {"statusCode": 200, "body": str(event.get("n"))}
def slow(event, context):
    time.sleep(30)
"""


def build(root: Path, template_text: str = TEMPLATE, app: str = APP, code: dict[str, str] | None = None) -> Path:
    """The app in `root`: both layers, `app` as `orders/app.py`, each of `code` ({folder: source}) as
    `<folder>/app.py`."""
    shutil.copytree(Path(hoptrace.__file__).parent, root / "layer" / "python" / "hoptrace",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for package in (hoptrace, hoptrace_collector):  # the collector ships with the layer modules it reads
        shutil.copytree(Path(package.__file__).parent, root / "collector_layer" / "python" / package.__name__,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for folder, source in {"orders": app, **(code or {})}.items():
        (root / folder).mkdir()
        (root / folder / "app.py").write_text(source)
    (root / "collector").mkdir()
    template = root / "template.yaml"
    template.write_text(template_text)
    return template


def wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the collector did not store what was expected in time")


def test_collector_function_stores_each_span_once(collector_cloud: tuple[LocalCloud, Path, str]) -> None:
    # GIVEN a traced function and a function that times out, both subscribed to the collector function
    cloud, root, store_url = collector_cloud
    # WHEN the traced function is invoked three times (one cold start) and the slow one once
    request_ids = [cloud.invoke("OrdersFunction", {"n": n}).request_id for n in range(3)]
    timed_out = cloud.invoke("SlowFunction", {})
    assert timed_out.error and timed_out.error["errorType"] == "Sandbox.Timedout"
    store: Store = open_store(store_url) if (root / "spans.db").exists() else None  # type: ignore[assignment]

    def arrived() -> bool:
        nonlocal store
        if store is None and (root / "spans.db").exists():
            store = open_store(store_url)
        if store is None:
            return False
        orders = store.invocations(function="orders")  # REPORT records, each joined to its trace once both came
        return len(orders) == 3 and all(r.trace_id for r in orders) and len(
            store.invocations(function="slow")) == 1 and len(store.spans(function="orders", limit=50)) >= 3
    wait_for(arrived)
    time.sleep(0.5)  # anything delivered twice would have landed by now
    # THEN each invocation of orders is one trace with one invocation span, stored once
    spans = store.spans(function="orders", limit=100)
    invocation_spans = [s for s in spans if s.request_id]
    assert sorted(s.request_id for s in invocation_spans) == sorted(request_ids)
    assert len({(s.trace_id, s.span_id) for s in spans}) == len(spans)
    for span in invocation_spans:
        [summary] = store.list_traces(TraceFilter(request_id=span.request_id))
        assert summary.span_count == len(store.get_trace(span.trace_id))
    assert [s.cold_start for s in sorted(invocation_spans, key=lambda s: s.start_ns)] == [True, False, False]
    # AND the REPORT lines became invocation records joined to those traces, the first one cold
    records = {r.request_id: r for r in store.invocations(function="orders")}
    assert set(records) == set(request_ids)
    assert {r.trace_id for r in records.values()} == {s.trace_id for s in invocation_spans}
    assert records[request_ids[0]].init_ms is not None and records[request_ids[1]].init_ms is None
    # AND the timed-out invocation, which the layer never finished, has its failed span: the layer's
    # watchdog wrote it pending before the deadline, the platform's timeout line made it final
    [timeout] = store.invocations(function="slow")
    assert (timeout.request_id, timeout.outcome) == (timed_out.request_id, "timeout")
    trace = store.get_trace(timeout.trace_id)
    [failed] = [s for s in trace if s.request_id == timed_out.request_id]
    assert (failed.status, failed.source, failed.pending, failed.status_message) == (
        "error", "platform", False, "Task timed out after 3.00 seconds")
    assert "hoptrace.pending" not in failed.attributes and not any(s.pending for s in trace)
    assert [s.name for s in trace] == ["init slow", "slow"]  # the cold start's init, then the invocation
    store.close()
