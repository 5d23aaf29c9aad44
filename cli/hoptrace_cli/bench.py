"""`hoptrace bench`: run the benchmarks in `benchmarks/` and write their table as Markdown.

Benchmarks live in the source tree (they need the peers' environments and moto), so this
command works from a checkout: `pip install -e '.[dev]'` then `hoptrace bench`.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import os
import platform
import sys
import time
from pathlib import Path

from hoptrace_cli import flags

ROOT = Path(__file__).resolve().parents[2]
SUITES = {"startup": "benchmarks.startup", "size": "benchmarks.layer_size",
          "collector": "benchmarks.collector_bench", "dashboard": "benchmarks.dashboard_bench",
          "alerts": "benchmarks.alerts_bench", "stepfunctions": "benchmarks.stepfunctions_bench",
          "redaction": "benchmarks.redaction_bench", "aws": "benchmarks.aws_cost",
          "soak": "benchmarks.soak"}
# Run only when named: the soak holds the demo for 10 minutes (`hoptrace bench soak`).
OPT_IN = frozenset({"soak"})
DEFAULT_SUITES = [name for name in SUITES if name not in OPT_IN]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # A type check, not `choices`: argparse tests a '*' positional's default list against the choices as a
    # whole, so `hoptrace bench` without a suite would be refused.
    parser.add_argument("suite", nargs="*", type=_suite, default=DEFAULT_SUITES, metavar="SUITE",
                        help=f"which benchmarks to run: {', '.join(SUITES)} (default: all but {', '.join(OPT_IN)})")
    parser.add_argument("--rounds", type=flags.COUNT,
                        help="interleaved rounds per peer (cold starts); default: each suite's")
    parser.add_argument("--warm", type=flags.COUNT, help="warm invocations per peer and handler; default: each suite's")
    parser.add_argument("--quick", action="store_true", help="a short run on small inputs that proves the machinery")
    parser.add_argument("--soak-seconds", type=flags.SECONDS,
                        help="soak: how long to hold the sustained rate (default 600)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.md",
                        help="where to write the Markdown report")


def _suite(name: str) -> str:
    if name not in SUITES:
        raise argparse.ArgumentTypeError(f"no suite {name!r}; choose from {', '.join(SUITES)}")
    return name


def run(args: argparse.Namespace) -> int:
    if not (ROOT / "benchmarks").is_dir():
        print("hoptrace bench: run it from a source checkout (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    sections = []
    load, started = _load(), time.monotonic()
    for name in args.suite:
        module = importlib.import_module(SUITES[name])
        print(f"[{name}] running ...", flush=True)
        clock = time.monotonic()
        given = (("rounds", args.rounds), ("warm", args.warm), ("quick", args.quick),
                 ("soak_seconds", args.soak_seconds))
        options = {key: value for key, value in given
                   if value not in (None, False) and key in inspect.signature(module.run).parameters}
        result = module.run(log=lambda message: print(message, flush=True), **options)
        table = module.markdown(result)
        print(table)
        seconds = time.monotonic() - clock
        sections.append(f"## {getattr(module, 'TITLE', name)}\n\n{table}\n\n(`{name}`: {seconds:.0f} s)\n")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    flags = [f"--{key} {value:g}" for key, value in (("rounds", args.rounds), ("warm", args.warm),
                                                      ("soak-seconds", args.soak_seconds)) if value]
    command = " ".join(["hoptrace bench", *(args.suite if args.suite != DEFAULT_SUITES else []),
                        *(["--quick"] if args.quick else []), *flags])
    header = (f"# hoptrace benchmarks\n\n`{command}` on {stamp}, {_machine()}; 1-minute load average {load} at the "
              f"start, {_load()} at the end; {time.monotonic() - started:.0f} s in all.\n\n")
    args.out.write_text(header + "\n".join(sections))
    print(f"written to {args.out} ({time.monotonic() - started:.0f} s)")
    return 0


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()} ({platform.machine()})")
