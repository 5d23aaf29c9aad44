"""Every command refuses a wrong flag value in one line (exit 2) before it starts anything, and its --help shows
each flag's default — checked through the real `hoptrace` command."""

from __future__ import annotations

import argparse
import importlib

import pytest

from hoptrace_cli.flags import COUNT, FRACTION, PORT, SECONDS, CommandParser, DefaultsHelpFormatter
from hoptrace_cli.main import SUBCOMMANDS

from ..cli_run import assert_one_line_error, hoptrace

BAD_FLAGS = [
    (["demo", "--duration", "-5"], "--duration", "> 0"),
    (["demo", "--duration", "0"], "--duration", "> 0"),
    (["demo", "--duration", "nan"], "--duration", "> 0"),
    (["demo", "--duration", "soon"], "--duration", "'soon'"),
    (["demo", "--rate", "0"], "--rate", "> 0"),
    (["demo", "--poison-rate", "1.5"], "--poison-rate", "<= 1"),
    (["demo", "--port", "70000"], "--port", "<= 65535"),
    (["demo", "--burst-size", "0"], "--burst-size", ">= 1"),
    (["demo", "--drain", "-1"], "--drain", ">= 0"),
    (["local", "--max-concurrency", "0"], "--max-concurrency", ">= 1"),
    (["local", "--idle-timeout", "-3"], "--idle-timeout", "> 0"),
    (["dashboard", "--port", "-1"], "--port", ">= 0"),
    (["bench", "--rounds", "0"], "--rounds", ">= 1"),
    (["bench", "--soak-seconds", "0"], "--soak-seconds", "> 0"),
    (["layer", "build", "--max-unzipped-mb", "0"], "--max-unzipped-mb", "> 0"),
    (["collector", "serve-otlp", "--max-body-mb", "-1"], "--max-body-mb", "> 0"),
    (["collector", "serve-otlp", "--port", "1e3"], "--port", "integer"),
    (["collector", "retention", "--older-than-days", "-1"], "--older-than-days", ">= 0"),
    (["alerts", "history", "--limit", "0"], "--limit", ">= 1"),
    (["alerts", "history", "--since", "-60"], "--since", "> 0"),
]


@pytest.mark.parametrize(("args", "flag", "wanted"), BAD_FLAGS, ids=[" ".join(a) for a, _, _ in BAD_FLAGS])
def test_a_bad_numeric_flag_is_one_line_and_exit_2(args, flag, wanted):
    # WHEN a command is given an out-of-range or malformed number
    proc = hoptrace(*args, timeout=60)
    # THEN it refuses in one line naming the flag, the allowed range and the value, before doing anything
    line = assert_one_line_error(proc, f"hoptrace {args[0]}", flag, wanted, args[-1])
    assert line.endswith("--help")
    assert proc.stdout == ""


def test_no_command_and_unknown_command_are_refused_in_one_line():
    assert_one_line_error(hoptrace("launch"), "hoptrace:", "invalid choice: 'launch'")


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    """Each command's parser (and its sub-commands'), built as `hoptrace` builds them."""
    found = []
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        parser = CommandParser(prog=f"hoptrace {name}", description=help_text)
        importlib.import_module(module_name).add_arguments(parser)
        found.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
    return found


@pytest.mark.parametrize(("name", "parser"), _parsers(), ids=lambda value: value if isinstance(value, str) else "")
def test_help_shows_every_default(name, parser):
    # GIVEN every option that has a default value
    formatter = DefaultsHelpFormatter(parser.prog)
    for action in parser._actions:
        if not action.option_strings or action.default in (None, False, argparse.SUPPRESS, [], ""):
            continue
        if action.dest == "help":
            continue
        # THEN its help text says what the default is
        text = formatter._get_help_string(action) or ""
        assert "default" in text.lower(), (name, action.option_strings, text)


def test_help_never_shows_a_secret_from_the_environment():
    proc = hoptrace("collector", "serve-otlp", "--help", env={"HOPTRACE_OTLP_TOKEN": "s3cr3t-token-value"})
    assert proc.returncode == 0
    assert "--token" in proc.stdout and "s3cr3t-token-value" not in proc.stdout


def test_number_types_take_what_is_in_range():
    assert PORT("0") == 0 and PORT("65535") == 65535
    assert COUNT("3") == 3
    assert SECONDS("0.5") == 0.5
    assert FRACTION("0") == 0 and FRACTION("1") == 1
    for parse, text in ((PORT, "-1"), (COUNT, "1.5"), (SECONDS, "inf"), (FRACTION, "-0.1")):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
            parse(text)
