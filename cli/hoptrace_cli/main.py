"""The `hoptrace` command: one entry point, sub-commands that each live in the part they drive.

Sub-command modules are imported only when chosen, so `hoptrace --help` stays fast and the
local cloud's dependencies (moto) are not needed to use the others.
"""

from __future__ import annotations

import importlib
import os
import sys

from hoptrace_cli import errors
from hoptrace_cli.flags import CommandParser

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("hoptrace_cli.demo.command", "run the demo shop locally, traced, with traffic; print what was traced"),
    "try": ("hoptrace_cli.try_layer", "trace sample AWS events with the layer and print the spans"),
    "local": ("hoptrace_localcloud.cli", "run a SAM template on this machine (no Docker)"),
    "bench": ("hoptrace_cli.bench", "measure hoptrace against a bare handler and its peers, side by side"),
    "collector": ("hoptrace_cli.collector", "run collector tasks: OTLP receiver, DLQ watcher, retention"),
    "dashboard": ("hoptrace_cli.dashboard", "open the dashboard over a store (default: the newest demo run)"),
    "alerts": ("hoptrace_cli.alerts", "evaluate the alert rules once and print their state (exit 1 when firing)"),
    "layer": ("hoptrace_cli.layer_build", "build the Lambda layer zip per runtime/architecture (layer build)"),
    "attach": ("hoptrace_cli.attach", "add the layer, handler redirect and log subscription to existing functions"),
    "detach": ("hoptrace_cli.detach", "undo what attach changed on functions, exactly"),
}


def build_parser() -> CommandParser:
    parser = CommandParser(prog="hoptrace", description="Distributed tracing for AWS Lambda.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in SUBCOMMANDS:
        args = parser.parse_args(argv)
        parser.print_help()
        return 2
    name, rest = argv[0], argv[1:]
    module_name, help_text = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        print(
            f"hoptrace {name}: cannot load {module_name} ({exc}). "
            "Install the extras it needs: pip install 'hoptrace[local]'",
            file=sys.stderr,
        )
        return 2
    sub = CommandParser(prog=f"hoptrace {name}", description=help_text)
    module.add_arguments(sub)
    args = sub.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"\nhoptrace {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hoptrace try | head`: the reader left; say nothing, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if os.environ.get("HOPTRACE_DEBUG"):
            raise
        message = errors.describe(exc)
        if message is not None:
            print(f"hoptrace {name}: {message}", file=sys.stderr)
            return 2
        print(f"hoptrace {name}: unexpected error {type(exc).__name__}: {' '.join(str(exc).split())} "
              "(a bug: rerun with HOPTRACE_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
