"""One directory per demo run, so two runs never share (or corrupt) a store.

    <data dir>/runs/<UTC timestamp>-<pid>/spans.db     the collector's SQLite store
                                         traffic.jsonl the generator's own record of each request
                                         layer/        the hoptrace layer as mounted under /opt
                                         app/          the demo shop and the sources its template names
    <data dir>/latest                    text file: path of the newest run (the dashboard's default)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path(os.environ.get("HOPTRACE_DEMO_DIR", Path.home() / ".hoptrace" / "demo"))


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def store_path(self) -> Path:
        return self.path / "spans.db"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.store_path}"

    @property
    def traffic_log(self) -> Path:
        return self.path / "traffic.jsonl"

    @property
    def layer_dir(self) -> Path:
        return self.path / "layer"

    @property
    def app_dir(self) -> Path:
        return self.path / "app"


def new_run(data_dir: Path) -> RunDir:
    data_dir = data_dir.expanduser().resolve()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (data_dir / "runs").mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        path = data_dir / "runs" / (f"{stamp}-{os.getpid()}" + ("" if attempt == 1 else f"-{attempt}"))
        try:
            path.mkdir()  # atomic: two runs can never get the same folder
            break
        except FileExistsError:
            continue
    else:
        raise RuntimeError(f"cannot make a new run folder under {data_dir / 'runs'}")
    latest = data_dir / "latest"
    tmp = latest.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(str(path) + "\n")
    tmp.replace(latest)  # atomic: a reader sees the old run or the new one, never half a path
    return RunDir(path)


def latest_store_url(data_dir: Path = DEFAULT_DATA_DIR) -> str | None:
    """The store of the newest demo run, or None when the demo never ran."""
    try:
        path = Path((data_dir.expanduser() / "latest").read_text().strip())
    except OSError:
        return None
    return RunDir(path).store_url if path.is_dir() else None
