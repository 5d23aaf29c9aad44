"""Ingest pauses the cyclic garbage collector for a batch and leaves it as it found it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from hoptrace_collector.ingest import gcpause
from hoptrace_collector.ingest.batch import Ingestor
from hoptrace_collector.store import open_store


def test_paused_inside_resumed_after_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        assert not gc.isenabled()
        raise RuntimeError("the store failed")
    assert gc.isenabled()


def test_a_process_that_disabled_it_keeps_it_disabled() -> None:
    gc.disable()
    try:
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_ingest_leaves_the_collector_running(tmp_path: Path) -> None:
    ingestor = Ingestor(open_store(str(tmp_path / "spans.db")))
    ingestor.ingest({"awslogs": {"data": "not base64!"}})
    ingestor.ingest_many([{"awslogs": {"data": "not base64!"}}])
    assert gc.isenabled()
