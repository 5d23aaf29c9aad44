"""Each demo run gets its own folder; `latest` always names a whole run, so the dashboard never mixes two."""

from __future__ import annotations

from pathlib import Path

from hoptrace_cli.demo.rundir import latest_store_url, new_run


def test_two_runs_never_share_a_store_and_latest_names_the_newest(tmp_path: Path) -> None:
    # GIVEN no run yet
    assert latest_store_url(tmp_path) is None
    # WHEN the demo runs twice in the same data directory
    first, second = new_run(tmp_path), new_run(tmp_path)
    # THEN each has its own folder and store, and `latest` points at the second
    assert first.path != second.path and first.store_path != second.store_path
    assert latest_store_url(tmp_path) == second.store_url == f"sqlite:///{second.path / 'spans.db'}"


def test_latest_pointing_at_a_deleted_run_means_no_run(tmp_path: Path) -> None:
    run = new_run(tmp_path)
    run.path.rmdir()
    assert latest_store_url(tmp_path) is None
