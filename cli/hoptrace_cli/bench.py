"""`hoptrace bench`: run the benchmarks in `benchmarks/` and write their table as Markdown.

Benchmarks live in the source tree (they need the peers' environments and moto), so this
command works from a checkout: `pip install -e '.[dev]'` then `hoptrace bench`.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITES = {"startup": "benchmarks.startup", "collector": "benchmarks.collector_bench"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", nargs="*", choices=list(SUITES), default=list(SUITES),
                        help="which benchmarks to run (default: all)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per peer (cold starts)")
    parser.add_argument("--warm", type=int, default=200, help="warm invocations per process")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.md",
                        help="where to write the Markdown report")


def run(args: argparse.Namespace) -> int:
    if not (ROOT / "benchmarks").is_dir():
        print("hoptrace bench: run it from a source checkout (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    sections = []
    for name in args.suite:
        module = importlib.import_module(SUITES[name])
        print(f"[{name}] running ...", flush=True)
        result = module.run(args.rounds, args.warm, log=lambda message: print(message, flush=True))
        table = module.markdown(result)
        print(table)
        sections.append(f"## {name}\n\n{table}\n")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "hoptrace bench " + " ".join(args.suite) + f" --rounds {args.rounds} --warm {args.warm}"
    args.out.write_text(f"# hoptrace benchmarks\n\n`{command}` on {stamp}, {_machine()}.\n\n" + "\n".join(sections))
    print(f"written to {args.out}")
    return 0


def _machine() -> str:
    import os
    import platform

    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"
