"""Facts on the invocation span as OpenTelemetry and Lambda define them: the unqualified ARN, and
no cold start for a request that arrived long after a proactively initialised sandbox's init."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hoptrace import coldstart
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run

pytestmark = pytest.mark.usefixtures("engine")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def echo(event: Any, context: Any) -> Any:
    return "ok"


@pytest.mark.parametrize(("invoked", "alias"), [(ARN, None), (ARN + ":live", "live"), (ARN + ":7", None),
                                                (ARN + ":$LATEST", None)])
def test_resource_id_is_the_unqualified_function_arn(invoked: str, alias: str | None) -> None:
    context = LambdaContext(invoked_function_arn=invoked)
    attributes = invocation_span(run(wrap(echo), load_event("direct_invoke"), context)[2])["attributes"]
    assert attributes["cloud.resource_id"] == ARN
    assert attributes.get("hoptrace.faas.alias") == alias
    assert attributes["cloud.account.id"] == "123456789012"


def first_invocation(monkeypatch: pytest.MonkeyPatch, init_done_ago_s: float) -> list[dict[str, Any]]:
    monkeypatch.setattr(coldstart, "_FIRST", True)
    monkeypatch.setattr(coldstart, "INIT_TYPE", "on-demand")
    traced = wrap(echo)
    monkeypatch.setattr(coldstart, "_init_done_ns", time.time_ns() - int(init_done_ago_s * 1e9))
    return run(traced, load_event("direct_invoke"), LambdaContext())[2]


def test_a_proactively_initialised_sandbox_is_no_cold_start_of_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN init finished a minute before the sandbox's first request
    spans = first_invocation(monkeypatch, 60)
    # THEN the request is not a cold start, the span says why, and no init segment is put before it
    attributes = invocation_span(spans)["attributes"]
    assert attributes["faas.coldstart"] is False and attributes["hoptrace.coldstart.proactive"] is True
    assert not any(s["name"].startswith("init ") for s in spans)
    assert "hoptrace.init_duration_ms" not in attributes


def test_a_request_that_waited_for_init_is_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    spans = first_invocation(monkeypatch, 0.01)
    attributes = invocation_span(spans)["attributes"]
    assert attributes["faas.coldstart"] is True and "hoptrace.coldstart.proactive" not in attributes
    assert any(s["name"].startswith("init ") for s in spans)
    # AND the next one in the same sandbox is warm
    later = invocation_span(run(wrap(echo), load_event("direct_invoke"), LambdaContext())[2])["attributes"]
    assert later["faas.coldstart"] is False and "hoptrace.coldstart.proactive" not in later
