"""Shared fixtures: one running local cloud of the test application for all e2e tests of the session
(starting one costs about a second), tuned for short waits."""

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


@pytest.fixture(scope="session")
def pipeline_cloud() -> Iterator[LocalCloud]:
    with LocalCloud(PIPELINE_TEMPLATE, FAST) as cloud:
        yield cloud


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


def receive_one(cloud: LocalCloud, logical_id: str, timeout: float = 15.0) -> dict[str, Any]:
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
