"""Shared fixtures: one running local cloud per template for the whole session (starting one costs seconds on a
busy machine), tuned for short waits. Tests that share a cloud use their own resource names or messages and
assert only on what they produced; tests that stop, kill or fault-inject a cloud start their own."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hoptrace_localcloud.cloud import LocalCloud
from hoptrace_localcloud.config import LocalCloudConfig

from .traced import TracedStore, traced_app

APPS = Path(__file__).parent / "apps"
PIPELINE_TEMPLATE = APPS / "pipeline" / "template.yaml"

FAST = LocalCloudConfig(
    sqs_wait_seconds=1,
    sqs_visibility_timeout=1,
    async_retry_delays=(0.2,),
    log_batch_interval=0.3,
    schedule_time_scale=0.01,
    idle_timeout=60,
)


class Clouds:
    """The session's running clouds, one per (template, traced, settings), reused by every module that asks for
    the same one. Only the `KEEP` most recently used stay running: an idle cloud still polls its queues and
    fires its schedules, which a 2-core machine feels; modules run in file order, so neighbours share."""

    KEEP = 2

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._running: dict[str, tuple[LocalCloud, TracedStore | None]] = {}  # oldest use first

    def plain(self, template: Path, **overrides: Any) -> LocalCloud:
        """The template as it is, untraced."""
        return self._get(template, False, overrides)[0]

    def traced(self, app: str, **overrides: Any) -> tuple[LocalCloud, TracedStore]:
        """`apps/<app>` with hoptrace attached and a collector (see `traced.py`): (cloud, its TracedStore)."""
        cloud, store = self._get(APPS / app / "template.yaml", True, overrides)
        assert store is not None
        return cloud, store

    def _get(self, template: Path, traced: bool, overrides: dict[str, Any]
             ) -> tuple[LocalCloud, TracedStore | None]:
        key = f"{template}|{traced}|{sorted(overrides.items())!r}"
        if key in self._running:
            self._running[key] = self._running.pop(key)
        else:
            while len(self._running) >= self.KEEP:
                self._stop(next(iter(self._running)))
            root = self._tmp.mktemp(f"{template.parent.name}-traced") if traced else None
            cloud = LocalCloud(traced_app(template.parent, root) if root else template, FAST, **overrides).start()
            self._running[key] = (cloud, TracedStore(cloud, root) if root else None)
        return self._running[key]

    def _stop(self, key: str) -> None:
        cloud, store = self._running.pop(key)
        cloud.stop()
        if store is not None:
            store.close()

    def stop_all(self) -> None:
        while self._running:
            self._stop(next(iter(self._running)))


@pytest.fixture(scope="session")
def clouds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clouds]:
    running = Clouds(tmp_path_factory)
    try:
        yield running
    finally:
        running.stop_all()


def traced_fixtures(app: str, **overrides: Any) -> tuple[Any, Any]:
    """The `traced` ((cloud, store)) and `cloud` fixtures of a module whose tests share `apps/<app>`, traced:
    `traced, cloud = traced_fixtures("filters")`."""

    @pytest.fixture
    def traced(clouds: Clouds) -> tuple[LocalCloud, TracedStore]:
        return clouds.traced(app, **overrides)

    @pytest.fixture
    def cloud(traced: tuple[LocalCloud, TracedStore]) -> LocalCloud:
        return traced[0]

    return traced, cloud


@pytest.fixture
def pipeline_cloud(clouds: Clouds) -> LocalCloud:
    return clouds.plain(PIPELINE_TEMPLATE)


def http(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP call returning (status, headers, body) for any status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def receive_one(cloud: LocalCloud, logical_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Long-poll a template queue until one message arrives (fails the test otherwise)."""
    import time

    sqs = cloud.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=cloud.resource(logical_id).url, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
                                       ).get("Messages", [])
        if messages:
            return messages[0]
    raise AssertionError(f"no message arrived in {logical_id} within {timeout} s")
