"""Fixtures shared by the reliability tests: the session's moto server (the collector tests' own fixture)."""

from __future__ import annotations

from tests.collector.conftest import moto_endpoint

__all__ = ["moto_endpoint"]
