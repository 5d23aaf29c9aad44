"""Fixtures for the collector tests: a fresh SQLite store and an ingestor writing to it."""

from __future__ import annotations

import uuid
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


@pytest.fixture(params=["sqlite", "dynamodb"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/contract.db")
    else:
        from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS

        endpoint = request.getfixturevalue("moto_endpoint")
        monkeypatch = request.getfixturevalue("monkeypatch")
        for name, value in DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        store = open_store(f"dynamodb://contract-{uuid.uuid4().hex[:10]}?region=us-east-1"
                           f"&endpoint_url={endpoint}&create=1")
    yield store
    store.close()
