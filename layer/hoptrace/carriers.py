"""Reading trace context out of the places AWS carries it, with one precedence rule.

Every trigger feeds what it finds into a `ContextFinder`; the finder applies the
project-wide order (W3C first, X-Ray second) so no trigger can get it wrong on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoptrace.propagation import TRACEPARENT, TRACESTATE, Carried, parse_traceparent, parse_xray

_XRAY_NAMES = ("x-amzn-trace-id", "awstraceheader")


class ContextFinder:
    """Collects candidate contexts; `found` is the first valid W3C one, else the first X-Ray one."""

    __slots__ = ("_w3c", "_xray", "problems")

    def __init__(self) -> None:
        self._w3c: Carried | None = None
        self._xray: Carried | None = None
        self.problems: list[str] = []

    def offer_traceparent(self, value: Any, source: str, tracestate: Any = None) -> None:
        if value is None or self._w3c is not None:
            return
        carried, problem = parse_traceparent(value, source)
        if problem:
            self.problems.append(problem)
        elif carried is not None:
            if isinstance(tracestate, str) and tracestate:
                carried = Carried(carried.trace_id, carried.span_id, carried.sampled, source, tracestate[:512])
            self._w3c = carried

    def offer_xray(self, value: Any, source: str) -> None:
        if value is None or self._xray is not None:
            return
        carried, problem = parse_xray(value, source)
        if problem:
            self.problems.append(problem)
        elif carried is not None:
            self._xray = carried

    def offer_mapping(self, values: Mapping[str, Any], source: str) -> None:
        """Headers or flattened message attributes: names compared case-insensitively."""
        lowered = lower_keys(values)
        self.offer_traceparent(lowered.get(TRACEPARENT), source, lowered.get(TRACESTATE))
        for name in _XRAY_NAMES:
            self.offer_xray(lowered.get(name), source)

    @property
    def found(self) -> Carried | None:
        return self._w3c or self._xray


def lower_keys(values: Any) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        return {}
    return {str(k).lower(): v for k, v in values.items()}


def sqs_attribute_values(attributes: Any) -> dict[str, Any]:
    """SQS record `messageAttributes` ({name: {stringValue, dataType}}) as {name: value}."""
    if not isinstance(attributes, Mapping):
        return {}
    return {
        name: spec.get("stringValue") for name, spec in attributes.items() if isinstance(spec, Mapping)
    }


def sns_attribute_values(attributes: Any) -> dict[str, Any]:
    """SNS `MessageAttributes` ({name: {Type, Value}}) as {name: value}."""
    if not isinstance(attributes, Mapping):
        return {}
    return {name: spec.get("Value") for name, spec in attributes.items() if isinstance(spec, Mapping)}
