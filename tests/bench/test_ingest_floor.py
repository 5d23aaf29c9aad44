"""The ingest bench's floor is honest: it writes exactly the rows ingest leaves, every table of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks import collector_data, collector_ingest


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' AND name <> 'meta'")]
        return {name: sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in names}
    finally:
        conn.close()


def test_the_floor_inserts_every_row_of_every_table_that_ingest_wrote(tmp_path: Path) -> None:
    events, total = collector_data.subscription_batches(300)
    (tmp_path / "ingested").mkdir()
    rows = collector_ingest.floor_rows(events, tmp_path / "ingested")
    assert len(rows["spans"]) == total
    for table in ("spans", "invocations", "resources", "traces", "trace_keys", "function_minutes"):
        assert rows[table], f"the floor leaves out {table}"
    (tmp_path / "floor").mkdir()
    collector_ingest._floor(rows, tmp_path / "floor")
    assert _tables(tmp_path / "floor" / "spans.db") == _tables(tmp_path / "ingested" / "spans.db")
