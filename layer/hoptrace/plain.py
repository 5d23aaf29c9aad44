"""Plain records for the layer's own data, without `dataclasses`' cost at import.

`@dataclass` writes each class's methods as source text and compiles it while the module is
imported: about 1 ms per class on Lambda-sized CPUs (more for a frozen or slotted one), which a
cold start pays before the handler runs. The layer's internal records were 7 ms of it. A subclass
of `Plain` writes its `__slots__` and `__init__` itself, compiled once into the module's bytecode,
and inherits equality and repr over the fields it names in `_fields`; a `Frozen` one also refuses
assignment after `__init__` (which sets its fields with `_assign(locals())`) and hashes by them.
`Config` stays a dataclass: it is public, and users call `dataclasses.replace` on it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Plain:
    """Equality and repr by `_fields`; unhashable, as a mutable dataclass is."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._fields)})"


class Frozen(Plain):
    """`Plain`, immutable after `__init__` and hashable by `_fields`."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def __hash__(self) -> int:
        return hash(self._values())

    def _assign(self, given: dict[str, Any]) -> None:
        """Each of `_fields` from `given` (an `__init__`'s `locals()`), past the frozen `__setattr__`. For records
        built at init; those made per invocation (`Invocation`, `Active`) assign directly, a call and a dict fewer."""
        for name in self._fields:
            object.__setattr__(self, name, given[name])

    def __setstate__(self, state: Any) -> None:
        """What `copy` and `pickle` restore: a `__dict__`, or (`__dict__` or None, slot values) when slotted."""
        own, slots = state if type(state) is tuple else (state, None)
        for values in (own, slots):
            for name, value in (values or {}).items():
                object.__setattr__(self, name, value)
