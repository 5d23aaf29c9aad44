"""`hoptrace dashboard`: open the Streamlit dashboard over a store (default: the newest demo run's).

It listens on 127.0.0.1 unless told otherwise; `--host 0.0.0.0` needs `--token` (or
HOPTRACE_DASHBOARD_TOKEN), and every page then asks for it. Streamlit is imported only
by the server process, so this module loads without the dashboard extra installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from typing import Any

from hoptrace_cli import flags
from hoptrace_cli.demo.rundir import latest_store_url

DEFAULT_PORT = 8501


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None, metavar="URL",
                        help="store to read: sqlite:////path/spans.db, a file path, or dynamodb://table?region=… "
                             "(default: the newest `hoptrace demo` run)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; anything else requires --token)")
    parser.add_argument("--port", type=flags.PORT, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0: any free)")
    parser.add_argument("--token", default=None,
                        help="access token every page asks for (default: env HOPTRACE_DASHBOARD_TOKEN; "
                             "prefer the variable: a command line is visible to other users)")


def resolve_store(store: str | None) -> tuple[str | None, str | None]:
    """(store URL, problem): the given URL, else the newest demo run's; a problem says what to do instead."""
    if store:
        if "://" not in store or store.startswith("sqlite:"):
            from hoptrace_collector.store.sqlite import path_from_url

            path = path_from_url(store.split("?", 1)[0])
            if not path.is_file():
                return None, f"no store file at {path}: check the path, or run `hoptrace demo` to make one"
            store = f"sqlite:///{path.resolve()}" if "://" not in store else store
        return store, None
    url = latest_store_url()
    if url is None:
        return None, ("no demo run found to show: run `hoptrace demo --duration 60` first, "
                      "or give --store sqlite:////path/to/spans.db")
    return url, None


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("altair") is None:
        print("hoptrace dashboard needs its extra: pip install 'hoptrace[dashboard]'", file=sys.stderr)
        return 2
    from hoptrace_dashboard.server import DashboardError, check_exposure, start_dashboard

    token = args.token or os.environ.get("HOPTRACE_DASHBOARD_TOKEN") or None
    store, problem = resolve_store(args.store)
    if store is None:
        print(f"hoptrace dashboard: {problem}", file=sys.stderr)
        return 2
    try:
        check_exposure(args.host, token)  # refused before anything says "starting"
        print(f"hoptrace dashboard: starting on {args.host}:{args.port or 'any free port'} for {store} …",
              flush=True)
        dashboard = start_dashboard(store, port=args.port, host=args.host, token=token)
    except DashboardError as exc:
        print(f"hoptrace dashboard: {exc}", file=sys.stderr)
        return 2
    print(f"      open {dashboard.url}" + ("  (asks for the access token)" if token else ""))
    print(f"      server log {dashboard.log_path}; Ctrl-C to stop", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop: same clean stop as Ctrl-C
    try:
        code = dashboard.process.wait()
    except KeyboardInterrupt:
        print("\nstopping the dashboard", file=sys.stderr)
        dashboard.stop()
        return 0
    print(f"hoptrace dashboard: the server stopped (code {code}):\n{dashboard.log_tail()}", file=sys.stderr)
    return 1



def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
