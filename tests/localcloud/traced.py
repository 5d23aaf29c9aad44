"""Traced copies of the local-cloud test apps, and the waits that read what their collector stored.

`traced_app` copies an app under `tests/localcloud/apps/` and attaches hoptrace to every function the way a
user does (the layer plus `AWS_LAMBDA_EXEC_WRAPPER`, so the function's own `Handler` stays), gives each
function its log group, and subscribes the real collector function to those groups with the filter pattern
`hoptrace attach` installs; the collector writes a SQLite store. The feature tests then assert both the
function's visible effect and, from that store only, that the invocation was traced.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hoptrace_cli import layerdir
from hoptrace_collector.store import Store, open_store
from hoptrace_collector.store.model import SpanRecord
from hoptrace_localcloud.cloud import LocalCloud
from hoptrace_localcloud.template import load_yaml
from tests.reliability.cloudapps import collector_function

LAYER = "HoptraceLayer"
COLLECTOR = "HoptraceCollector"
T = TypeVar("T")


def traced_app(app: Path, root: Path) -> Path:
    """`app` copied to `root` (or changed in place when they are one folder) with the layer attached to every
    function and a collector storing at `root/spans.db`; returns the traced template."""
    if app.resolve() != root.resolve():
        shutil.copytree(app, root, dirs_exist_ok=True)
    layerdir.assemble(root / "hoptrace_layer")
    path = root / "template.yaml"
    document = load_yaml(path.read_text(), path)
    resources: dict[str, Any] = document["Resources"]
    groups = []
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.setdefault("Properties", {})
        props["Layers"] = [*(props.get("Layers") or []), {"Ref": LAYER}]
        variables = props.setdefault("Environment", {}).setdefault("Variables", {})
        variables["AWS_LAMBDA_EXEC_WRAPPER"] = f"/opt/{layerdir.EXEC_WRAPPER}"
        groups.append(f"{logical_id}Logs")
        resources[groups[-1]] = {"Type": "AWS::Logs::LogGroup",
                                 "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{logical_id}}}"}}}
    resources[LAYER] = {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "hoptrace_layer/"}}
    resources[COLLECTOR] = collector_function(f"{root.name}-collector", store_url(root), groups, Runtime="python3.13")
    path.write_text(json.dumps(document, indent=1))  # JSON is YAML
    return path


def store_url(root: Path) -> str:
    return f"sqlite:///{root}/spans.db"


class TracedStore:
    """The store a traced app's collector writes, opened once the collector has created it."""

    def __init__(self, cloud: LocalCloud, root: Path) -> None:
        self.cloud = cloud
        self._path = root / "spans.db"
        self._store: Store | None = None

    def wait(self, what: str, condition: Callable[[Store], T | None], timeout: float = 60.0) -> T:
        """Poll until `condition(store)` is truthy and return it, or fail naming `what` and what is stored."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._store is None and self._path.exists():
                    self._store = open_store(f"sqlite:///{self._path}")
                value = condition(self._store) if self._store is not None else None
                if value:
                    return value
            except (sqlite3.Error, OSError):
                pass  # the collector is creating the file
            if time.monotonic() > deadline:
                stored = sorted({(s.function, str(s.trigger), s.name) for s in self._store.spans(limit=500)}
                                ) if self._store else "no store yet"
                raise AssertionError(f"{what}: not stored within {timeout:.0f} s; stored: {stored}")
            time.sleep(0.2)

    def invocations(self, logical_id: str, trigger: str, count: int = 1, timeout: float = 60.0
                    ) -> list[SpanRecord]:
        """At least `count` invocation spans of the function, each with `trigger` (oldest first)."""
        name = self.cloud.function(logical_id).spec.name

        def found(store: Store) -> list[SpanRecord] | None:
            spans = [s for s in store.spans(function=name, limit=1000) if s.request_id and s.trigger == trigger]
            return sorted(spans, key=lambda s: s.start_ns) if len(spans) >= count else None
        return self.wait(f"{count} {trigger} invocation(s) of {logical_id}", found, timeout)

    def trace_with(self, trace_id: str, predicate: Callable[[list[SpanRecord]], bool], what: str,
                   timeout: float = 60.0) -> list[SpanRecord]:
        """The stored trace once `predicate(spans)` holds."""
        return self.wait(what, lambda store: (lambda spans: spans if spans and predicate(spans) else None)(
            store.get_trace(trace_id)), timeout)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def invocation_of(spans: list[SpanRecord], function: str, trigger: str) -> list[SpanRecord]:
    """The invocation spans of `function` (its name) with `trigger` among `spans`."""
    return [s for s in spans if s.function == function and s.request_id and s.trigger == trigger]


def client_spans(spans: list[SpanRecord], function: str, method: str) -> list[SpanRecord]:
    """The AWS SDK client spans of `function` calling `method` (e.g. "PutEvents")."""
    return [s for s in spans if s.function == function and s.attributes.get("rpc.method") == method]
