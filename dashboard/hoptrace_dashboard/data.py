"""The pages' only way to the store: every query is run once per store URL and arguments, then cached.

The store is opened once per process (`cache_resource`: the SQLite store is thread-safe
and keeps its connection), and each query's result is kept for `CACHE_TTL_S` seconds for
every browser session, so ten engineers opening the same incident cost one query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from hoptrace_collector.store import Store, open_store
from hoptrace_dashboard import queries
from hoptrace_dashboard.settings import CACHE_TTL_S

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def store_for(url: str) -> Store:
    return open_store(url)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=512)
def _cached(url: str, name: str, arguments: tuple[tuple[str, Any], ...]) -> Any:
    return getattr(queries, name)(store_for(url), **dict(arguments))


def ask(store_url: str, query: Callable[..., T], **arguments: Any) -> T:
    """`query(store, **arguments)` for a function of `queries`, cached by its name and arguments."""
    if getattr(queries, query.__name__, None) is not query:
        raise ValueError(f"{query.__name__} is not a function of hoptrace_dashboard.queries")
    return _cached(store_url, query.__name__, tuple(sorted(arguments.items())))
