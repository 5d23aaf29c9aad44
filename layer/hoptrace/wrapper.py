"""The handler wrapper: extract, start, call, finish, write — and never break the handler.

Before and after the call each run under their own guard. Whatever fails inside hoptrace
is counted (`health`) and the user's handler runs, returns and raises exactly as it
would without the layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from hoptrace import current, health, invocation, logcorrelation, outbound, semconv, watchdog
from hoptrace import engine as engines
from hoptrace.config import CONFIG, Config
from hoptrace.engine import Engine

Handler = TypeVar("Handler", bound=Callable[..., Any])


def _setup(config: Config) -> Engine | None:
    if not config.enabled:
        return None
    try:
        engine = engines.load(config)
    except Exception as error:
        health.swallow("setup", error)
        return None
    try:
        outbound.install(engine, config)
    except Exception as error:
        health.swallow("outbound.install", error)
    try:
        engine.bridge_user_api()
    except Exception as error:
        health.swallow("setup.user_api", error)
    current.use(engine)
    if config.log_correlation:
        try:
            logcorrelation.install()
        except Exception as error:
            health.swallow("logcorrelation.install", error)
    return engine


ENGINE = _setup(CONFIG)


def wrap(handler: Handler, config: Config | None = None) -> Handler:
    """`handler` traced; with hoptrace disabled or broken at init, `handler` itself."""
    config = CONFIG if config is None else config
    engine = ENGINE
    if engine is None or not config.enabled or getattr(handler, "__hoptrace_wrapped__", False):
        return handler
    resource = {**engine.resource, semconv.SERVICE_NAME: config.service_name}

    @functools.wraps(handler)
    def traced(event: Any, context: Any = None) -> Any:
        try:
            active = invocation.start(engine, config, event, context)
            watchdog.arm(engine, active, resource, context, config.timeout_margin_ms)
        except Exception as error:
            health.swallow("invocation.start", error)
            active = None
        try:
            result = handler(event, context)
        except BaseException as error:
            _finish(engine, config, active, resource, None, error)
            raise
        _finish(engine, config, active, resource, result, None)
        return result

    traced.__hoptrace_wrapped__ = True  # type: ignore[attr-defined]
    return traced  # type: ignore[return-value]


def _finish(engine: Engine, config: Config, active: Any, resource: dict[str, Any], result: Any,
            error: BaseException | None) -> None:
    if active is None:
        return
    try:
        watchdog.disarm()
        invocation.finish(engine, config, active, result, error, resource)
    except Exception as failure:
        health.swallow("invocation.finish", failure)


def trace(handler: Handler | None = None, *, config: Config | None = None) -> Any:
    """Decorator for those who prefer code: `@hoptrace.trace` or `@hoptrace.trace(config=...)`."""
    if handler is None:
        return lambda fn: wrap(fn, config)
    return wrap(handler, config)
