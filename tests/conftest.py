"""Shared test helpers: AWS event fixtures and a Lambda context shaped like the runtime's."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text())


def all_event_names() -> list[str]:
    return sorted(p.stem for p in EVENTS.glob("*.json"))


@dataclass
class ClientContext:
    custom: dict[str, Any] | None = None
    env: dict[str, Any] | None = None
    client: Any = None


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that hoptrace reads."""

    function_name: str = "orders"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:orders"
    memory_limit_in_mb: int = 128
    aws_request_id: str = "8f5a1b1e-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/orders"
    log_stream_name: str = "2026/11/25/[$LATEST]a1b2c3d4e5f6"
    client_context: ClientContext | None = None
    identity: Any = None
    _remaining: int = field(default=3000)

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
