"""Shared fixtures for the shipping tests: one moto server for the module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoptrace_localcloud.motoserver import MotoServer

ROOT = Path(__file__).resolve().parents[2]
# Kept between runs (git-ignored), so pip downloads happen once per machine, not once per test run.
CACHE = ROOT / ".hoptrace" / "test-cache"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = MotoServer()
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()
