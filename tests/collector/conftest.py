"""Fixtures for the collector tests: a fresh SQLite store and an ingestor writing to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/spans.db")
    yield opened
    opened.close()


@pytest.fixture
def ingestor(store: Store) -> Ingestor:
    return Ingestor(store)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server process for the session, started by the local cloud's own helper."""
    from hoptrace_localcloud.motoserver import MotoServer

    server = MotoServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def aws(moto_endpoint: str) -> Any:
    """A boto3 client factory bound to the moto server."""
    from hoptrace_localcloud.motoserver import client_factory

    return client_factory(moto_endpoint, "us-east-1")
