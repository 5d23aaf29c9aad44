"""Span and trace ids for both engines: fast, and trace ids X-Ray compatible (epoch seconds first).

`random.getrandbits` is a Mersenne Twister seeded from `os.urandom` at import: ids need to be
unique, not secret, and this costs ~0.1 µs where `os.urandom` costs a syscall.
"""

from __future__ import annotations

from hoptrace.propagation import new_span_id, new_trace_id


class Ids:
    """The default id source; tests pass one with fixed sequences to compare engines line for line."""

    __slots__ = ()

    def trace_id(self) -> int:
        return new_trace_id()

    def span_id(self) -> int:
        return new_span_id()


class FixedIds(Ids):
    """Counting ids: the same run gives the same ids, whichever engine asks."""

    __slots__ = ("_span", "_trace")

    def __init__(self, trace_base: int = 0x5F000000 << 96, span_base: int = 0x1000) -> None:
        self._trace = trace_base
        self._span = span_base

    def trace_id(self) -> int:
        self._trace += 1
        return self._trace

    def span_id(self) -> int:
        self._span += 1
        return self._span
