"""The `engine` fixture: a layer test marked with it runs once per span engine (light, otel)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hoptrace import config as configs
from hoptrace import engine as engines
from hoptrace import wrapper
from hoptrace.config import Config
from hoptrace.engine import ENGINES

ENV_DEFAULT = configs.default


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
    """A fresh engine of kind `name` behind `wrap()` (whose default config it becomes) and the hooks."""
    from hoptrace import outbound

    reset_otel_api()
    config = Config(engine=name, **overrides)
    engine = engines.load(config, ids=ids, clock=clock)
    configs.default = lambda: config  # type: ignore[assignment]
    wrapper.use_engine(engine, config)
    outbound.install(engine, config)
    engine.bridge_user_api()
    return engine


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield use_engine(request.param)
    reset_otel_api()
    configs.default = ENV_DEFAULT
    wrapper.forget_engines()
