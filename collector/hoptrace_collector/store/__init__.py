"""Span stores behind one small interface, chosen by URL.

    open_store("sqlite:////var/lib/hoptrace/spans.db")     # embedded default (also a plain path)
    open_store("dynamodb://hoptrace-spans?region=eu-west-1")  # AWS, at scale

Backends are imported only when their scheme is asked for, so the SQLite path never pays
for boto3.
"""

from __future__ import annotations

from hoptrace_collector.store.base import Store, StoreError, UnstorableError
from hoptrace_collector.store.loglines import LogLine
from hoptrace_collector.store.model import (
    DlqMessage,
    FunctionStats,
    InvocationRecord,
    Outcome,
    SpanRecord,
    SpanSource,
    TraceFilter,
    TraceSummary,
    WriteResult,
)

__all__ = [
    "DlqMessage", "FunctionStats", "InvocationRecord", "LogLine", "Outcome", "SpanRecord", "SpanSource", "Store",
    "StoreError", "TraceFilter", "TraceSummary", "UnstorableError", "WriteResult", "open_store",
]

SCHEMES = ("sqlite", "dynamodb")


def open_store(url: str) -> Store:
    """The store a URL names; StoreError says what is wrong with a bad one."""
    if not isinstance(url, str) or not url.strip():
        raise StoreError(f"store URL must be a non-empty string, got {url!r}; "
                         "e.g. sqlite:////tmp/hoptrace/spans.db or dynamodb://table?region=us-east-1")
    url = url.strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("", "sqlite"):
        from hoptrace_collector.store.sqlite import SqliteStore

        return SqliteStore.from_url(url)
    if scheme == "dynamodb":
        from hoptrace_collector.store.dynamodb import DynamoStore

        return DynamoStore.from_url(url)
    raise StoreError(f"unknown store scheme {scheme!r} in {url!r}: use one of "
                     + ", ".join(f"{s}://" for s in SCHEMES))
