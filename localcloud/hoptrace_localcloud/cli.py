"""`hoptrace local --template PATH`: run a SAM template here, print where things are, stream a compact
live log, and stop every process on Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hoptrace_cli import flags

from .cloud import LocalCloud
from .config import LocalCloudConfig
from .logstore import LogEvent
from .motoserver import MotoServerError
from .template import TemplateError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", "-t", required=True, help="path of the SAM template.yaml")
    parser.add_argument("--port", type=flags.PORT, default=3000, help="port of the local API (0: any free port)")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="override a template parameter (repeatable)")
    parser.add_argument("--layer", action="append", default=[], metavar="ARN=DIR",
                        help="local directory for a layer the template references by ARN (repeatable)")
    parser.add_argument("--stack-name", default="local", help="AWS::StackName used in resource names")
    parser.add_argument("--region", default="us-east-1", help="AWS::Region of the local resources")
    parser.add_argument("--max-concurrency", type=flags.COUNT, default=10, help="workers per function at most")
    parser.add_argument("--idle-timeout", type=flags.SECONDS, default=300.0, help="seconds before idle workers stop")
    parser.add_argument("--quiet", action="store_true", help="do not stream function logs")
    parser.add_argument("--jwt-key", action="append", default=[], metavar="ISSUER=FILE",
                        help="key of a JWT authorizer's issuer: HS256 secret or public key PEM, in FILE")
    parser.add_argument("--no-build", action="store_true",
                        help="do not install functions' and layers' requirements.txt (the sam build step)")


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"hoptrace local: {option} {value!r} must look like KEY=VALUE")
        pairs[key] = rest
    return pairs


def _read_key(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise SystemExit(f"hoptrace local: --jwt-key: cannot read {path} ({exc.strerror}); give ISSUER=FILE") from None


def _live_log_line(event: LogEvent) -> str:
    function = event.group.rsplit("/", 1)[-1]
    stamp = time.strftime("%H:%M:%S", time.localtime(event.timestamp / 1000))
    message = event.message.replace("\r", " | ")
    if message.startswith("REPORT "):
        parts = dict(part.split(": ", 1) for part in message.split("\t")[1:] if ": " in part)
        message = f"REPORT {parts.get('Duration', '')}" + (f" (cold, init {parts['Init Duration']})"
                                                            if "Init Duration" in parts else "")
    return f"{stamp} {function:<28.28} {message}"


def run(args: Any) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    config = LocalCloudConfig(
        api_port=args.port, parameters=_pairs(args.parameter, "--parameter"),
        layer_dirs=_pairs(args.layer, "--layer"), stack_name=args.stack_name, region=args.region,
        max_concurrency=args.max_concurrency, idle_timeout=args.idle_timeout, build=not args.no_build,
        jwt_keys={issuer: _read_key(path) for issuer, path in _pairs(args.jwt_key, "--jwt-key").items()},
    )
    cloud = LocalCloud(args.template, config)
    if not args.quiet:
        cloud.logs.add_listener(lambda event: print(_live_log_line(event), flush=True))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        started = time.perf_counter()
        cloud.start()
        _print_banner(cloud, time.perf_counter() - started)
        stop.wait()
        print("\nstopping…", file=sys.stderr)
        return 0
    except (TemplateError, MotoServerError) as exc:  # other known causes: hoptrace_cli.errors, after the stop
        print(f"hoptrace local: {exc}", file=sys.stderr)
        return 2
    finally:
        cloud.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_banner(cloud: LocalCloud, seconds: float) -> None:
    print(f"hoptrace local: {cloud.template_path} running ({seconds:.1f} s to start)")
    print(f"  API:      {cloud.api_url}")
    print(f"  AWS APIs: {cloud.endpoint_url}  (AWS_ENDPOINT_URL for your own scripts)")
    print("  functions:")
    for pool in cloud.functions.values():
        triggers = cloud.summary.lines.get(pool.spec.name) or ["(invoke only)"]
        print(f"    {pool.spec.name}: {'; '.join(triggers)}")
    machines = list(cloud.stepfunctions.machines.values()) if cloud.stepfunctions else []
    if machines:
        print("  state machines:")
    for machine in machines:
        starts = cloud.summary.lines.get(machine.name) or ["(StartExecution only)"]
        print(f"    {machine.name}{' (tracing on)' if machine.tracing else ''}: {'; '.join(starts)}")
    for warning in cloud.warnings:
        print(f"  not supported: {warning}")
    print("Ctrl-C stops everything.", flush=True)
