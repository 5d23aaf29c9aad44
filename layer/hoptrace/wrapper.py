"""The handler wrapper: extract, start, call, finish, write — and never break the handler.

Before and after the call each run under their own guard. Whatever fails inside hoptrace
is counted (`health`) and the user's handler runs, returns and raises exactly as it
would without the layer.

Each wrapped handler runs with the tracing of its own configuration: the one passed in code
(`wrap(handler, config)`, `@hoptrace.trace(sample_rate=0.1)`), else the environment's. Explicit
arguments beat the environment, which beats the defaults. The tracing (engine, resource, output
limits) is built once per configuration at `wrap`, never per invocation; configurations that agree
on the engine's settings share one engine.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from hoptrace import coldstart, current, health, invocation, logcorrelation, outbound, output, semconv, watchdog
from hoptrace import config as configs
from hoptrace import engine as engines
from hoptrace.config import Config
from hoptrace.engine import Engine
from hoptrace.plain import Frozen

Handler = TypeVar("Handler", bound=Callable[..., Any])
EngineKey = tuple[str, float, int, str]


class Tracing(Frozen):
    """What one configuration's invocations are traced with, built once."""

    __slots__ = ("engine", "limits", "resource", "trace_http")
    _fields = ("engine", "trace_http", "resource", "limits")
    engine: Engine
    trace_http: bool
    resource: dict[str, Any]
    limits: output.OutputLimits

    def __init__(self, engine: Engine, trace_http: bool, resource: dict[str, Any],
                 limits: output.OutputLimits) -> None:
        self._assign(locals())


_ENGINES: dict[EngineKey, Engine | None] = {}
_active: list[Any] = [None]  # the Tracing the outbound hooks and log correlation currently follow


def engine_key(config: Config) -> EngineKey:
    """The settings an engine is built from: configurations equal in these share an engine."""
    return (config.engine, config.sample_rate, config.max_attribute_length, config.service_name)


def engine_for(config: Config) -> Engine | None:
    """The engine for `config`, built on first use; None when it cannot be built (counted)."""
    key = engine_key(config)
    if key in _ENGINES:
        return _ENGINES[key]
    try:
        engine: Engine | None = engines.load(config)
    except Exception as error:
        health.swallow("setup", error)
        engine = None
    _ENGINES[key] = engine
    return engine


def use_engine(engine: Engine, config: Config) -> None:
    """`engine` for every configuration that shares `config`'s engine settings (tests pass fixed ids)."""
    _ENGINES[engine_key(config)] = engine
    _active[0] = None


def forget_engines() -> None:
    """Engines are built again on next use (for tests that swap engines)."""
    _ENGINES.clear()
    _active[0] = None


def tracing_for(config: Config) -> Tracing | None:
    """Built at `wrap` (init), so the hot path only reads it."""
    engine = engine_for(config)
    if engine is None:
        return None
    try:
        outbound.install(engine, config)
    except Exception as error:
        health.swallow("outbound.install", error)
    try:
        engine.bridge_user_api()
    except Exception as error:
        health.swallow("setup.user_api", error)
    if config.log_correlation:
        try:
            logcorrelation.install()
        except Exception as error:
            health.swallow("logcorrelation.install", error)
    resource = {**engine.resource, semconv.SERVICE_NAME: config.service_name}
    tracing = Tracing(engine, config.trace_http, resource, output.limits(config))
    _activate(tracing)
    return tracing


def _activate(tracing: Tracing) -> None:
    """The hooks follow the tracing of the handler now running (only when it differs from the last)."""
    _active[0] = tracing
    engine = tracing.engine
    current.use(engine)
    outbound.use(engine, tracing.trace_http)
    bridge = sys.modules.get("hoptrace.engine.bridge")  # loaded only once the function uses the API
    if bridge is not None:
        bridge.follow(engine)


def wrap(handler: Handler, config: Config | None = None, **explicit: Any) -> Handler:
    """`handler` traced; with hoptrace disabled or broken at init, `handler` itself.

    `config`: the whole configuration, as given; `explicit` (Config's field names, e.g.
    `sample_rate=0.1`): those settings over `config`, or over the environment's without one."""
    if config is None:
        config = dataclasses.replace(configs.default(), **explicit) if explicit else configs.default()
    elif explicit:
        config = dataclasses.replace(config, **explicit)
    if not config.enabled or getattr(handler, "__hoptrace_wrapped__", False):
        return handler
    tracing = tracing_for(config)
    if tracing is None:
        return handler
    coldstart.init_done(config.gc_freeze)
    engine, resource, limits = tracing.engine, tracing.resource, tracing.limits
    margin_ms = config.timeout_margin_ms

    @functools.wraps(handler)
    def traced(event: Any, context: Any = None) -> Any:
        try:
            if _active[0] is not tracing:
                _activate(tracing)
            active = invocation.start(engine, config, event, context)
            watchdog.arm(engine, active, resource, context, margin_ms, limits)
        except Exception as error:
            health.swallow("invocation.start", error)
            active = None
        try:
            result = handler(event, context)
        except BaseException as error:
            _finish(engine, config, active, resource, limits, None, error)
            raise
        _finish(engine, config, active, resource, limits, result, None)
        return result

    traced.__hoptrace_wrapped__ = True  # type: ignore[attr-defined]  # a marker on our own function
    return traced  # type: ignore[return-value]  # called as Lambda calls `handler`: (event, context)


def _finish(engine: Engine, config: Config, active: Any, resource: dict[str, Any], limits: output.OutputLimits,
            result: Any, error: BaseException | None) -> None:
    if active is None:
        return
    try:
        watchdog.disarm()
        invocation.finish(engine, config, active, result, error, resource, limits)
    except Exception as failure:
        health.swallow("invocation.finish", failure)


def trace(handler: Handler | None = None, *, config: Config | None = None, **explicit: Any) -> Any:
    """Decorator for those who prefer code: `@hoptrace.trace`, `@hoptrace.trace(config=Config(...))`
    or `@hoptrace.trace(sample_rate=0.1, trace_http=False)` (over the environment's settings)."""
    if handler is None:
        return lambda fn: wrap(fn, config, **explicit)
    return wrap(handler, config, **explicit)
