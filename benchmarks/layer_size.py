"""Layer size: hoptrace's zip against Lambda's 250 MB limit and against what each peer adds to a function.

hoptrace's figure is the zip `hoptrace layer build` makes for this Python and architecture. The
peers' are what pip installed into their environments beyond the runtime's boto3/botocore and
their dependencies, laid out, pruned, compiled and zipped by the same code (benchmarks/peers.py),
so the three rows are measured the same way. Run with `hoptrace bench size`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from benchmarks import peers as peer_setup
from hoptrace_cli import layer_zip
from hoptrace_cli.layer_build import LAMBDA_UNZIPPED_LIMIT_MB, MB

TITLE = "4. Layer size"


def run(rounds: int = 0, warm: int = 0, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    """Sizes do not vary between runs: `rounds`, `warm` and `quick` change nothing here."""
    _, peers = peer_setup.prepare(log)
    rows = {name: {"zipped": peer.zipped, "unzipped": peer.unzipped, "files": peer.files,
                   "top_level": layer_zip.top_level_sizes(peer.archive)}
            for name, peer in peers.items() if peer.archive is not None}
    return {"rows": rows, "limit_mb": LAMBDA_UNZIPPED_LIMIT_MB,
            "target": f"python{sys.version_info.major}.{sys.version_info.minor} {peer_setup.ARCH}"}


def markdown(result: dict[str, Any]) -> str:
    rows, limit = result["rows"], result["limit_mb"]
    ours = rows["hoptrace"]
    lines = [f"What each tracer adds to a function ({result['target']}), against Lambda's {limit:g} MB limit "
             "(a function and all its layers, unzipped). Peers: their packages beyond boto3/botocore and their "
             "dependencies, laid out, pruned, compiled and zipped the way `hoptrace layer build` makes hoptrace's.",
             "", "| peer | zipped | unzipped | files | share of 250 MB | unzipped ÷ hoptrace's |",
             "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['zipped'] / MB:.2f} MB | {row['unzipped'] / MB:.2f} MB | {row['files']} "
                     f"| {row['unzipped'] / MB / limit:.1%} | {row['unzipped'] / ours['unzipped']:.2f}x |")
    lines.append("")
    for name, row in rows.items():
        lines.append(f"- {name}, largest parts unzipped: " + ", ".join(
            f"{part} {size / MB:.2f} MB" for part, size in row["top_level"][:5]) + ".")
    lines += ["", "The opentelemetry-lambda layer as published also carries some 30 other instrumentations; the "
              "stock-otel row holds only what its trace setup here imports, so it is a lower bound."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
