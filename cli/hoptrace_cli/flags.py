"""Every command's parser and the types of its numeric flags, in one place: a wrong value is refused where
argparse reads it, in one line (`hoptrace demo: argument --duration: must be a number > 0, got '-5'; see
hoptrace demo --help`, exit 2) before anything starts, and `--help` shows each flag's default."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn

_SECRET_WORDS = ("token", "secret", "password", "key")


class DefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends `(default: X)` to each option's help unless the help already says what the default is."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS, [], ""):
            return text
        if any(word in action.dest for word in _SECRET_WORDS):  # a help page must never show a secret
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text
        default = action.default
        shown = ", ".join(map(str, default)) if isinstance(default, list | tuple) else "%(default)s"
        return f"{text} (default: {shown})" if text else f"default: {shown}"


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose refusals are one line and whose help shows defaults (sub-parsers inherit it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}; see {self.prog} --help", file=sys.stderr)
        raise SystemExit(2)


def number(kind: type[int] | type[float] = float, *, minimum: float | None = None, above: float | None = None,
           maximum: float | None = None, unit: str = "") -> Callable[[str], Any]:
    """An argparse `type` accepting a finite `kind` within the bounds, else an ArgumentTypeError saying which."""
    bounds = [f">= {minimum:g}" if minimum is not None else "", f"> {above:g}" if above is not None else "",
              f"<= {maximum:g}" if maximum is not None else ""]
    wanted = f"{'an integer' if kind is int else 'a number'} {' and '.join(b for b in bounds if b)}".strip()
    wanted += f" {unit}" if unit else ""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        if (not math.isfinite(value) or (minimum is not None and value < minimum)
                or (above is not None and value <= above) or (maximum is not None and value > maximum)):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


PORT = number(int, minimum=0, maximum=65535)
COUNT = number(int, minimum=1)
SECONDS = number(float, above=0, unit="seconds")
SECONDS_OR_ZERO = number(float, minimum=0, unit="seconds")
FRACTION = number(float, minimum=0, maximum=1)
POSITIVE = number(float, above=0)
NON_NEGATIVE = number(float, minimum=0)
