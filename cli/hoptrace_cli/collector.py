"""`hoptrace collector`: run the collector's parts outside Lambda.

    hoptrace collector serve-otlp [--store URL] [--host 127.0.0.1] [--port 4318] [--token T]
    hoptrace collector watch-dlq [--store URL] [--queue-url URL ...]
    hoptrace collector retention --older-than-days N [--store URL]

The store defaults to HOPTRACE_STORE (else sqlite:////tmp/hoptrace/spans.db), as in Lambda.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from hoptrace_cli import flags
from hoptrace_collector.config import CollectorConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    config = CollectorConfig.from_env()
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    otlp = tasks.add_parser("serve-otlp", help="receive OTLP/HTTP spans (POST /v1/traces) into the store")
    otlp.add_argument("--store", default=config.store_url, help="store URL (default: %(default)s)")
    otlp.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    otlp.add_argument("--port", type=flags.PORT, default=4318, help="port (default: %(default)s; 0 = any free port)")
    otlp.add_argument("--token", default=os.environ.get("HOPTRACE_OTLP_TOKEN"),
                      help="bearer token senders must present, required off loopback "
                           "(default: env HOPTRACE_OTLP_TOKEN)")
    otlp.add_argument("--max-body-mb", type=flags.POSITIVE, default=8.0,
                      help="largest request body (default: %(default)s)")
    dlq = tasks.add_parser("watch-dlq", help="peek at dead-letter queues once and record their messages")
    dlq.add_argument("--store", default=config.store_url, help="store URL (default: %(default)s)")
    dlq.add_argument("--queue-url", action="append", default=list(config.dlq_urls),
                     help="a DLQ to watch (repeatable; default: HOPTRACE_DLQ_URLS, else every queue redriven into)")
    retention = tasks.add_parser("retention", help="delete what started before a cutoff")
    retention.add_argument("--store", default=config.store_url, help="store URL (default: %(default)s)")
    retention.add_argument("--older-than-days", type=flags.NON_NEGATIVE, required=True,
                           help="delete traces that started more than this many days ago")


def run(args: argparse.Namespace) -> int:
    from hoptrace_collector.store import StoreError, open_store

    try:
        if args.task == "serve-otlp":
            from hoptrace_collector.otlp.server import serve_otlp

            serve_otlp(args.store, args.host, args.port, args.token, int(args.max_body_mb * 1024 * 1024))
            return 0
        store = open_store(args.store)
        if args.task == "watch-dlq":
            import boto3

            from hoptrace_collector.dlq import watch

            print(watch(boto3.client("sqs"), store, args.queue_url))
        else:
            removed = store.delete_older_than(time.time_ns() - int(args.older_than_days * 86_400 * 1e9))
            print(f"removed {removed} records older than {args.older_than_days} days from {store.url}")
        store.close()
    except (StoreError, ValueError) as exc:
        print(f"hoptrace collector {args.task}: {exc}", file=sys.stderr)
        return 2
    return 0
