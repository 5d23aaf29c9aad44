"""Fixtures shared by the reliability tests: the session's moto server and the store on both backends
(the collector tests' own fixtures)."""

from __future__ import annotations

from tests.collector.conftest import any_store, moto_endpoint
from tests.layer.conftest import engine

__all__ = ["any_store", "engine", "moto_endpoint"]
