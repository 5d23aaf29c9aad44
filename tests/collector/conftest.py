"""Fixtures for the collector tests: a fresh SQLite store and an ingestor writing to it, and one local cloud
shared by the collector's e2e modules."""

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


@pytest.fixture(scope="session")
def collector_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(cloud, root, store URL): one local cloud for the collector e2e modules (spans once, the async DLQ, log
    formats), its collector function subscribed to every function's log group. Each module's functions have
    their own names, code folder and log group, and each test asserts only on its own functions."""
    from hoptrace_localcloud.cloud import LocalCloud
    from tests.collector import test_e2e_async_dlq, test_e2e_localcloud, test_e2e_logs

    root = tmp_path_factory.mktemp("collector-e2e")
    store_url = f"sqlite:///{root}/spans.db"
    template = (test_e2e_localcloud.HEAD + test_e2e_localcloud.ORDERS + test_e2e_async_dlq.NOTIFY
                + test_e2e_logs.LOGGING + test_e2e_localcloud.collector_function(
                    "Orders", "Slow", "Notify", *test_e2e_logs.FUNCTIONS))
    path = test_e2e_localcloud.build(root, template, test_e2e_localcloud.APP,
                                     {"notify": test_e2e_async_dlq.APP, "logs": test_e2e_logs.APP})
    with LocalCloud(path, parameters={"StoreUrl": store_url}, log_batch_interval=0.2, idle_timeout=120,
                    async_retry_delays=(0.2,)) as cloud:
        yield cloud, root, store_url


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
