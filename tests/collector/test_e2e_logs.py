"""Application log lines end to end, per log format: functions in the local cloud write `logging` and `print`
lines in Lambda's text or JSON format, the real collector function stores them with their invocation.

Two invocations of one function run at the same time (two execution environments, two log
streams, interleaved in time); each must get exactly its own lines.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hoptrace_collector.store import Store, open_store
from hoptrace_localcloud.cloud import LocalCloud
from tests.collector.test_e2e_localcloud import wait_for

pytestmark = pytest.mark.e2e

FUNCTION = """
  {name}Function:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {lower}
      CodeUri: logs/
      Handler: hoptrace.handler.handler
      Layers: [!Ref HoptraceLayer]
      Environment: {{Variables: {{HOPTRACE_HANDLER: app.handler}}}}
      {logging}
  {name}Logs:
    Type: AWS::Logs::LogGroup
    Properties: {{LogGroupName: !Sub "/aws/lambda/${{{name}Function}}"}}
"""
FUNCTIONS = {
    "Text": "",
    "Json": "LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO}",
    "Quiet": "LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: ERROR, SystemLogLevel: WARN}",
}
APP = """
import logging
import os
import time

logger = logging.getLogger("shop")
if os.environ.get("AWS_LAMBDA_LOG_FORMAT") != "JSON":
    logger.setLevel(logging.INFO)  # text format: the root logger stays at WARNING, as on Lambda


def handler(event, context):
    tag = event["tag"]
    print(f"print {tag} before")
    logger.info("logging %s info", tag)
    time.sleep(event.get("sleep", 0))
    print(f"print {tag} after password=hunter2")
    logger.error("logging %s error", tag)
    return {"tag": tag}
"""


LOGGING = "".join(FUNCTION.format(name=n, lower=n.lower(), logging=c) for n, c in FUNCTIONS.items())


def lines_of(store: Store, function: str, request_id: str) -> list[tuple[str, str]]:
    return [(x.level, x.message) for x in store.invocation_logs([(function, request_id)])]


@pytest.fixture(scope="module")
def ran(collector_cloud: tuple[LocalCloud, Path, str]) -> Iterator[tuple[Store, dict[str, dict[str, str]], LocalCloud]]:
    cloud, root, store_url = collector_cloud  # (the session's, shared with the other collector e2e modules)
    requests: dict[str, dict[str, str]] = {}
    for name in FUNCTIONS:
        # two at once: two sandboxes, two streams, lines interleaved in time
        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(lambda tag, n=name: (tag, cloud.invoke(f"{n}Function", {"tag": tag,
                                                                                          "sleep": 0.5})),
                                 ("A", "B")))
        assert all(not result.error for _, result in done), done
        requests[name.lower()] = {tag: result.request_id for tag, result in done}
    while not (root / "spans.db").exists():
        time.sleep(0.1)
    store = open_store(store_url)
    expected = {"text": 4, "json": 4, "quiet": 1}
    # every line, `print` included, also when a START and the lines after it reach different collector
    # sandboxes (the stream's open invocation is kept in the store)
    try:
        wait_for(lambda: all(len(store.invocation_logs([(f, rid)])) >= expected[f]
                             for f, ids in requests.items() for rid in ids.values()), timeout=90)
    except AssertionError as exc:  # say what was stored, not only that something was missing
        stored = {f: [lines_of(store, f, rid) for rid in ids.values()] for f, ids in requests.items()}
        raise AssertionError(f"{exc}: stored {stored}; collector said "
                             f"{cloud.log_lines('CollectorFunction')[-10:]}") from exc
    time.sleep(0.5)
    yield store, requests, cloud
    store.close()


@pytest.mark.parametrize("function", ["text", "json"])
def test_each_invocation_gets_exactly_its_own_lines(ran, function: str) -> None:  # type: ignore[no-untyped-def]
    store, requests, _ = ran
    for tag, request_id in requests[function].items():
        lines = lines_of(store, function, request_id)
        # THEN its print and logging lines, in order, and none of the other invocation's
        assert [m for _, m in lines] == [f"print {tag} before", f"logging {tag} info",
                                         f"print {tag} after password=[REDACTED]", f"logging {tag} error"], lines
        assert [level for level, _ in lines] == ["", "INFO", "", "ERROR"]
        # AND the layer's span line is not a log line
        assert not any(m.startswith("HOPTRACE") for _, m in lines)


def test_json_format_platform_records_give_cold_starts_and_durations(ran) -> None:  # type: ignore[no-untyped-def]
    store, requests, _ = ran
    records = {r.request_id: r for r in store.invocations(function="json")}
    assert set(records) == set(requests["json"].values())
    assert all(r.init_ms is not None and r.duration_ms and r.duration_ms >= 500 for r in records.values())


def test_json_levels_are_honoured_as_on_lambda(ran) -> None:  # type: ignore[no-untyped-def]
    store, requests, cloud = ran
    # ApplicationLogLevel ERROR drops the info record; SystemLogLevel WARN drops the platform records
    for tag, request_id in requests["quiet"].items():
        messages = [m for _, m in lines_of(store, "quiet", request_id)]
        assert f"logging {tag} error" in messages and f"logging {tag} info" not in messages
    assert store.invocations(function="quiet") == []
    assert not any('"platform.' in line for line in cloud.log_lines("QuietFunction"))


def test_json_logging_records_carry_the_span_they_were_logged_in(ran) -> None:  # type: ignore[no-untyped-def]
    # the layer's logging correlation puts trace_id/span_id on each record; Lambda's JSON format writes them
    store, requests, _ = ran
    spans = {s.request_id: s for s in store.spans(function="json", limit=100) if s.request_id}
    for request_id in requests["json"].values():
        logged = [x for x in store.invocation_logs([("json", request_id)]) if x.level]
        span = spans[request_id]
        assert logged and all((x.trace_id, x.span_id) == (span.trace_id, span.span_id) for x in logged)
