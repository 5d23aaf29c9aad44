"""`hoptrace alerts`: evaluate the alert rules once, show their state and history, check a rules file.

    hoptrace alerts check --store URL [--rules FILE] [--notify] [--all] [--now TIME]
    hoptrace alerts rules [--rules FILE] [--defaults]
    hoptrace alerts history --store URL [--since SECONDS] [--limit N]

`check` exits 0 when nothing fires, 1 when at least one alert is firing, 2 when it could not
evaluate (a wrong rules file, an unreadable store), so a script or CI step can gate on it.
Without `--notify` it stores nothing and sends nothing: it shows what the scheduled evaluator
would conclude now. With `--notify` it is the evaluator: it records transitions in the store
and notifies (stdout, and SNS / webhook when configured).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hoptrace_alerts import config as alert_config
from hoptrace_cli import flags

if TYPE_CHECKING:
    from hoptrace_alerts.view import StateRow
    from hoptrace_collector.store import Store

EXIT_QUIET, EXIT_FIRING, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="evaluate every rule once and print the state (exit 1 when firing)",
                           description="Evaluate every rule once and print the state table. Exit codes: 0 nothing "
                                       "firing, 1 something firing, 2 could not evaluate (rules file, store).")
    _store_argument(check)
    _rules_argument(check)
    check.add_argument("--notify", action="store_true",
                       help="act as the evaluator: record transitions in the store and send notifications "
                            "(default: print only, store nothing)")
    check.add_argument("--all", action="store_true", help="list every alert, also those that are ok")
    check.add_argument("--now", default=None, metavar="TIME",
                       help="evaluate at this time (ISO 8601 or epoch seconds) instead of now")
    rules = sub.add_parser("rules", help="check a rules file and print the effective rules",
                           description="Validate a rules file (exit 2 naming each wrong field) and print the rules.")
    _rules_argument(rules)
    rules.add_argument("--defaults", action="store_true",
                       help="print the rules file with every default and its meaning (a starting point)")
    history = sub.add_parser("history", help="print the recorded transitions, newest first")
    _store_argument(history)
    history.add_argument("--since", type=flags.SECONDS, default=86_400, metavar="SECONDS",
                         help="how far back (default: one day)")
    history.add_argument("--limit", type=flags.COUNT, default=50, help="transitions to print at most")


def _store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None, metavar="URL",
                        help="span store: sqlite:////path/spans.db, a file path, or dynamodb://table?region=… "
                             "(default: env HOPTRACE_STORE, else the newest `hoptrace demo` run)")


def _rules_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, default=None, metavar="FILE",
                        help="rules file, TOML (default: env HOPTRACE_ALERT_RULES, else for check the rules the "
                             "evaluator last ran with on the store, else the built-in defaults)")


def run(args: argparse.Namespace) -> int:
    from hoptrace_collector.store import StoreError

    try:
        if args.action == "rules":
            return _rules(args)
        store = _open(args.store)
        try:
            return _check(store, _rules_for(store, args.rules), args) if args.action == "check" else _history(
                store, args)
        finally:
            store.close()
    except alert_config.ConfigError as exc:
        print(f"hoptrace alerts: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (StoreError, ValueError) as exc:
        print(f"hoptrace alerts: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _open(url: str | None) -> Store:
    from hoptrace_cli.dashboard import resolve_store
    from hoptrace_collector.store import open_store

    store_url, problem = resolve_store(url or os.environ.get("HOPTRACE_STORE") or None)
    if store_url is None:
        raise ValueError(problem)
    return open_store(store_url)


def _rules_for(store: Store, path: Path | None) -> alert_config.AlertConfig:
    """--rules, else HOPTRACE_ALERT_RULES, else the rules the evaluator last ran with on this store, else defaults."""
    if path is not None or os.environ.get(alert_config.ENV_RULES, "").strip():
        return alert_config.load(path)
    from hoptrace_alerts import view

    return view.evaluated_rules(store) or alert_config.load(None)


def _check(store: Store, config: alert_config.AlertConfig, args: argparse.Namespace) -> int:
    from hoptrace_alerts import view
    from hoptrace_alerts.evaluator import Evaluator, run_once
    from hoptrace_alerts.notify import channels
    from hoptrace_alerts.states import open_state_store

    now_ns = _parse_time(args.now) if args.now else time.time_ns()
    if args.notify:
        evaluator = Evaluator(store, open_state_store(store), config)
        evaluation, applied = run_once(evaluator, channels(config), now_ns)
        rows = view.alert_rows(evaluation)
        print(f"recorded {len(applied)} transition(s) in the store")
    else:
        rows = view.preview(store, config, now_ns)
    print(render(rows, now_ns, show_all=args.all, source=config.source))
    return EXIT_FIRING if any(r.state == "firing" for r in rows) else EXIT_QUIET


def render(rows: list[StateRow], now_ns: int, show_all: bool = False, source: str = "") -> str:
    """The state table: one line per alert that is not ok (every alert with `show_all`), firing first."""
    order = {"firing": 0, "resolved": 1, "ok": 2}
    shown = sorted((r for r in rows if show_all or r.state != "ok"),
                   key=lambda r: (order.get(r.state, 3), r.rule, r.subject))
    firing = sum(r.state == "firing" for r in rows)
    stamp = datetime.fromtimestamp(now_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    head = (f"{len(rows)} alert(s) evaluated at {stamp} ({source or 'built-in defaults'}): {firing} firing, "
            f"{sum(r.state == 'resolved' for r in rows)} resolved, {sum(r.state == 'ok' for r in rows)} ok")
    if not shown:
        return head
    width_rule = max(len("RULE"), *(len(r.rule) for r in shown))
    width_subject = max(len("FUNCTION / QUEUE"), *(len(r.subject) for r in shown))
    lines = [head, "", f"{'STATE':<9} {'RULE':<{width_rule}} {'FUNCTION / QUEUE':<{width_subject}} NOW"]
    lines += [f"{r.state.upper():<9} {r.rule:<{width_rule}} {r.subject:<{width_subject}} {r.summary}" for r in shown]
    return "\n".join(lines)


def _history(store: Store, args: argparse.Namespace) -> int:
    from hoptrace_alerts import view

    rows = view.history(store, since_ns=time.time_ns() - int(args.since * 1e9), limit=args.limit)
    if not rows:
        print("no alert transitions recorded in that time")
    for r in rows:
        stamp = datetime.fromtimestamp(r.time_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")
        note = "notified" if r.notified else "silent"
        print(f"{stamp}  {r.from_state:>8} -> {r.to_state:<8} {r.rule:<18} {r.subject}  ({note}) {r.summary}")
    return EXIT_QUIET


def _rules(args: argparse.Namespace) -> int:
    if args.defaults:
        print(alert_config.default_toml())
        return EXIT_QUIET
    from hoptrace_alerts import view

    config = alert_config.load(args.rules)
    print(f"rules from {config.source}: valid")
    for row in view.rules(config):
        fields = ", ".join(f"{k}={v}" for k, v in row.params.items() if k != "enabled")
        state = "on " if row.enabled else "off"
        print(f"  {state} {row.rule:<18} per {row.per:<8} {fields}")
        if row.overrides:
            print(f"      overridden for: {', '.join(row.overrides)}")
    return EXIT_QUIET


def _parse_time(text: str) -> int:
    try:
        return int(float(text) * 1e9)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"--now {text!r}: give an ISO 8601 time (2026-11-25T08:00:00Z) or epoch seconds") from exc
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1e9)


def demo_lines(store_url: str, since_ns: int) -> str:
    """The alerts block of `hoptrace demo`'s summary: what fired during the run, and where to read more."""
    from hoptrace_alerts import view
    from hoptrace_collector.store import StoreError, open_store

    try:
        store = open_store(store_url)
        try:
            run, moves = view.last_run(store), view.history(store, since_ns=since_ns, limit=500)
        finally:
            store.close()
    except StoreError as exc:
        return f"  alerts        not readable: {exc}"
    if run is None:
        return "  alerts        the evaluator has not run yet (it runs on the schedule, every --report-every)"
    fired = [m for m in reversed(moves) if m.to_state == "firing" and m.notified]
    what = ", ".join(f"{m.rule} on {m.subject} (+{(m.time_ns - since_ns) / 1e9:.0f} s)" for m in fired[:6])
    more = f" and {len(fired) - 6} more" if len(fired) > 6 else ""
    head = f"  alerts        {len(fired)} fired: {what}{more}" if fired else "  alerts        none fired"
    return f"{head}\n                hoptrace alerts history --store {store_url}"
