"""What only the SQLite backend promises: its URLs, WAL, and readers beside a writer in other processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hoptrace_collector.store import SpanRecord, StoreError, TraceFilter, open_store
from hoptrace_collector.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]


def span(trace: int, index: int, start: int = 1_000) -> SpanRecord:
    return SpanRecord(trace_id=f"{trace:032x}", span_id=f"{index + 1:016x}",
                      parent_id=None if index == 0 else f"{1:016x}", name=f"op{index}",
                      kind="server" if index == 0 else "client", start_ns=start + index, end_ns=start + 100,
                      status="ok", service="orders", function="orders", resource={"service.name": "orders"})


@pytest.mark.parametrize("form", ["absolute", "relative", "plain"])
def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    monkeypatch.chdir(tmp_path)
    url = {"absolute": f"sqlite:///{tmp_path}/a/spans.db", "relative": "sqlite:///rel/spans.db",
           "plain": str(tmp_path / "plain.db")}[form]
    store = open_store(url)
    store.write([span(1, 0)])
    assert isinstance(store, SqliteStore) and store.path.is_file()
    assert store.url == url
    store.close()


@pytest.mark.parametrize(("url", "says"), [
    ("", "non-empty"), ("mysql://db/spans", "unknown store scheme 'mysql'"),
    ("sqlite://host/spans.db", "has a host part"), ("sqlite:///", "names no file"),
    ("sqlite:///x.db?busy_timeout_ms=soon", "busy_timeout_ms"),
])
def test_bad_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(StoreError, match=says):
        open_store(url)


def test_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot open"):
        open_store(str(blocker / "spans.db"))


def test_wal_mode_and_indexes(tmp_path: Path) -> None:
    open_store(str(tmp_path / "s.db")).close()
    connection = sqlite3.connect(tmp_path / "s.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"spans_by_function_time", "spans_errors", "spans_cold_starts", "spans_by_request",
            "spans_invocations", "trace_keys_by_key", "traces_by_start"} <= indexes


READER = textwrap.dedent("""
    import sys, time
    from hoptrace_collector.store import TraceFilter, open_store
    store = open_store(sys.argv[1])
    reads, seen, states = 0, 0, set()
    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        traces = store.list_traces(TraceFilter(service="orders", limit=1000))
        for summary in traces[:5]:
            spans = store.get_trace(summary.trace_id)
            assert len(spans) == summary.span_count == 8, (len(spans), summary)
        reads += 1
        seen = max(seen, len(traces))
        states.add(len(traces))
        if seen == 200:
            break
    print(reads, seen, len(states))
""")


def test_readers_in_other_processes_while_one_writes(tmp_path: Path) -> None:
    # GIVEN a store file and two dashboard-like reader processes polling it
    url = f"sqlite:///{tmp_path}/shared.db"
    writer = open_store(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    readers = [subprocess.Popen([sys.executable, "-c", READER, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env) for _ in range(2)]
    for reader in readers:
        assert reader.stdout is not None and reader.stdout.readline() == "ready\n"
    # WHEN the collector writes 200 traces in 40 batches, and a second writer process appends too
    for batch in range(40):
        writer.write([span(batch * 5 + t, i) for t in range(5) for i in range(8)])
        time.sleep(0.005)
    second = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        from hoptrace_collector.store import SpanRecord, open_store
        store = open_store({url!r})
        store.write([SpanRecord("{'f' * 32}", "{'1' * 16}", None, "other", "server", 1, 2, "ok", service="x",
                                function="x")])
    """)], capture_output=True, text=True, env=env, timeout=60)
    # THEN every reader saw only whole batches (each trace complete), never an error
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err
        reads, seen, states = (int(x) for x in out.split())
        assert reads > 1 and seen == 200 and states > 1  # it read while the writer was still writing
    assert second.returncode == 0, second.stderr
    assert len(writer.list_traces(TraceFilter(limit=500))) == 201
    writer.close()


def test_processes_creating_the_same_new_store_at_once(tmp_path: Path) -> None:
    # the collector and a dashboard may open a store that does not exist yet at the same moment
    url = f"sqlite:///{tmp_path}/new.db"
    code = textwrap.dedent(f"""
        import sys
        from hoptrace_collector.store import SpanRecord, open_store
        n = int(sys.argv[1])
        open_store({url!r}).write([SpanRecord(f"{{n + 1:032x}}", "1" * 16, None, "x", "server", 1, 2, "ok")])
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", code, str(n)], env=env, stderr=subprocess.PIPE, text=True)
                 for n in range(4)]
    for process in processes:
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    assert len(open_store(url).list_traces(TraceFilter())) == 4
