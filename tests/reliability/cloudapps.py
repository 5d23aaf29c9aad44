"""Small SAM applications for the reliability tests, and the bookkeeping that compares logs with the store.

Every application here runs in the real local cloud: traced functions have the hoptrace layer attached
(handler redirect, as `hoptrace attach` does it), their log groups are subscribed to a collector
function with the filter pattern `hoptrace attach` installs, and the collector writes a SQLite file.
The tests then compare what the functions *logged* (the local cloud's log store) with what the
collector *stored*, span by span.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hoptrace_cli import layerdir
from hoptrace_cli.attachment import FILTER_PATTERN
from hoptrace_localcloud.cloud import LocalCloud
from tests.layer.spans import decode_output

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR_CODE = ROOT / "collector"  # what the demo template uses as the collector's CodeUri
APPS = Path(__file__).parent / "apps"
LAYER = "HoptraceLayer"

SpanKey = tuple[str, str]


def traced_function(name: str, code_uri: str | Path, user_handler: str, env: dict[str, str] | None = None,
                    **properties: Any) -> dict[str, Any]:
    """A function with the layer attached by handler redirect, as `hoptrace attach` leaves it."""
    return {"Type": "AWS::Serverless::Function", "Properties": {
        "FunctionName": name, "CodeUri": str(code_uri), "Handler": "hoptrace.handler.handler",
        "Layers": [{"Ref": LAYER}], **properties,
        "Environment": {"Variables": {"HOPTRACE_HANDLER": user_handler, **(env or {})}}}}


def log_group(function_name: str) -> dict[str, Any]:
    return {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/aws/lambda/{function_name}"}}


def collector_function(name: str, store_url: str, subscribed: list[str], *, code_uri: str | Path = COLLECTOR_CODE,
                       handler: str = "hoptrace_collector.handler.handler", env: dict[str, str] | None = None,
                       **properties: Any) -> dict[str, Any]:
    """A collector subscribed to the log groups (logical ids) in `subscribed`, storing at `store_url`."""
    events = {f"Logs{index}": {"Type": "CloudWatchLogs", "Properties": {
        "LogGroupName": {"Ref": group}, "FilterPattern": FILTER_PATTERN}} for index, group in enumerate(subscribed)}
    return {"Type": "AWS::Serverless::Function", "Properties": {
        "FunctionName": name, "CodeUri": str(code_uri), "Handler": handler, "Timeout": 30, **properties,
        "Environment": {"Variables": {"HOPTRACE_STORE": store_url, "HOPTRACE_DISABLED": "true", **(env or {})}},
        "Events": events}}


def write_app(root: Path, resources: dict[str, Any], code: dict[str, str] | None = None) -> Path:
    """`root/template.yaml` with the layer (assembled as `hoptrace demo` does) and `code` files under root."""
    layerdir.assemble(root / "layer")
    for relative, text in (code or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
                "Globals": {"Function": {"Runtime": "python3.13", "Timeout": 10}},
                "Resources": {LAYER: {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer/"}},
                              **resources}}
    path = root / "template.yaml"
    path.write_text(json.dumps(template, indent=1))  # JSON is YAML
    return path


def logged_spans(cloud: LocalCloud, logical_id: str) -> list[dict[str, Any]]:
    """Every span the function wrote to its log (the wire lines decoded; a malformed line fails the test)."""
    return decode_output("\n".join(cloud.log_lines(logical_id)))[0]


def stored_span_keys(db: Path) -> list[SpanKey]:
    """(trace id, span id) of every stored span row, duplicates included, read with plain SQL."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return [(t, s) for t, s in conn.execute("SELECT trace_id, span_id FROM spans")]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> float:
    """Poll until `condition()` holds; returns the seconds it took, or fails naming `what` did not happen."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except (sqlite3.Error, OSError):
            pass  # the store file is being created by another process
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
