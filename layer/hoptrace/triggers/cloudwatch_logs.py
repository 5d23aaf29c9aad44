"""CloudWatch Logs subscription batches (`awslogs.data`): traced as a data-source trigger.

The payload is not decoded here: that would put gzip on the hot path of every log
consumer for nothing but a span name.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers.model import Invocation

NAME = "cloudwatch_logs"


def matches(event: dict[str, Any]) -> bool:
    return isinstance(event.get("awslogs"), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    attributes = {semconv.FAAS_TRIGGER: "datasource", semconv.TRIGGER: NAME}
    return Invocation(trigger=NAME, name="process log batch", kind="consumer", attributes=attributes)
