"""The `engine` fixture: a layer test marked with it runs once per span engine (light, otel)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hoptrace import engine as engines
from hoptrace import wrapper
from hoptrace.config import CONFIG, Config
from hoptrace.engine import ENGINES


def reset_otel_api() -> None:
    """Forget the provider registered with the OpenTelemetry API (the API allows it once per process)."""
    try:
        from opentelemetry import trace
        from opentelemetry.util._once import Once
    except ImportError:
        return
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()


def use_engine(name: str, ids: Any = None, clock: Any = None, **overrides: Any) -> Any:
    """A fresh engine of kind `name` behind `wrap()` and the outbound hooks."""
    from hoptrace import current, outbound

    reset_otel_api()
    engine = engines.load(Config(engine=name, **overrides), ids=ids, clock=clock)
    wrapper.ENGINE = engine
    current.use(engine)
    outbound.install(engine, CONFIG)
    engine.bridge_user_api()
    return engine


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    before = wrapper.ENGINE
    yield use_engine(request.param)
    reset_otel_api()
    if before is not None:
        use_engine(CONFIG.engine)
