"""Optional forwarding of each stored batch to other backends: OTLP/HTTP (`HOPTRACE_FORWARD_OTLP=url`)
and AWS X-Ray (`HOPTRACE_FORWARD_XRAY=1`).

Forwarding runs after the batch is stored and never fails it: a destination that is down
costs a count in the handler's summary (`forwarded`) and one log line, nothing more. A
redelivered batch is forwarded again; both OTLP backends and X-Ray treat a resent span id as
the same span.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hoptrace_collector.config import CollectorConfig
from hoptrace_collector.ingest.problems import log_line
from hoptrace_collector.store.model import SpanRecord

Forward = Callable[[list[SpanRecord]], dict[str, int]]
Destination = Callable[[list[SpanRecord]], int]


class Refused(Exception):
    """A destination took some of the spans and refused the rest (X-Ray refuses documents one by one)."""

    def __init__(self, accepted: int, refused: int, example: str) -> None:
        super().__init__(f"{refused} refused, {accepted} accepted; e.g. {example}")
        self.accepted, self.refused, self.example = accepted, refused, example


class Forwarder:
    """Sends to every configured destination; counts what went and what failed, per destination."""

    def __init__(self, destinations: dict[str, Destination]) -> None:
        self.destinations = destinations

    def __call__(self, spans: list[SpanRecord]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name, send in self.destinations.items():
            try:
                counts[name] = send(spans)
            except Refused as refused:  # the rest went: they count as sent, the refused ones on their own
                counts[name] = refused.accepted
                counts[f"{name}_refused"] = refused.refused
                log_line("forward_refused", destination=name, spans=len(spans), refused=refused.refused,
                         example=refused.example)
            except Exception as exc:  # a backend that is down must never cost the batch
                counts[f"{name}_errors"] = counts.get(f"{name}_errors", 0) + 1
                log_line("forward_failed", destination=name, spans=len(spans), error=f"{type(exc).__name__}: {exc}")
        return counts


def forwarder(config: CollectorConfig, xray_client: Any | None = None) -> Forwarder | None:
    """The forwarding the configuration asks for, or None."""
    destinations: dict[str, Destination] = {}
    if config.forward_otlp:
        from hoptrace_collector.forward.otlp import OtlpForwarder

        destinations["otlp"] = OtlpForwarder(config.forward_otlp, config.forward_timeout_s)
    if config.forward_xray:
        from hoptrace_collector.forward.xray import XrayForwarder

        destinations["xray"] = XrayForwarder(xray_client)
    return Forwarder(destinations) if destinations else None
