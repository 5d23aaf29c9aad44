"""Write a folder as a byte-for-byte reproducible zip and describe what is inside.

Same input files, same zip: entries sorted, every timestamp the same (SOURCE_DATE_EPOCH if set,
else 1980-01-01, the earliest a zip can hold), permissions normalised to 0644/0755, no extra
fields. A layer's SHA-256 then changes only when its content does, so publishing an unchanged
build is recognisably a no-op.
"""

from __future__ import annotations

import os
import stat
import time
import zipfile
from collections import Counter
from pathlib import Path

EPOCH_1980 = (1980, 1, 1, 0, 0, 0)


def fixed_timestamp() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return EPOCH_1980
    stamp = time.gmtime(max(int(epoch), 315532800))  # zips cannot hold dates before 1980
    return stamp[:6]


def write(folder: Path, destination: Path) -> None:
    """Zip the contents of `folder` (not the folder itself) into `destination`."""
    stamp = fixed_timestamp()
    paths = sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix())
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in paths:
            name = path.relative_to(folder).as_posix()
            if path.is_dir():
                info = zipfile.ZipInfo(name + "/", stamp)
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10  # 0x10: the MS-DOS directory flag
                info.create_system = 3
                archive.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(name, stamp)
            executable = path.stat().st_mode & 0o111
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3  # Unix, so unzip and Lambda honour the mode bits
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(destination)


def totals(archive_path: Path) -> tuple[int, int]:
    """(unzipped bytes, number of files): what Lambda's 250 MB limit and a budget are measured in."""
    with zipfile.ZipFile(archive_path) as archive:
        files = [info for info in archive.infolist() if not info.is_dir()]
    return sum(info.file_size for info in files), len(files)


def top_level_sizes(archive_path: Path) -> list[tuple[str, int]]:
    """Unzipped bytes per top-level package of `python/` (metadata counted with its package), largest first."""
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            if parts[0] != "python" or len(parts) < 2:
                sizes[parts[0]] += info.file_size
                continue
            name = parts[2].split(".")[0] if parts[1] == "__pycache__" and len(parts) > 2 else parts[1]
            if name.endswith(".dist-info"):
                name = "(package metadata)"
            elif name.endswith(".py") and len(parts) == 2:
                name = name[:-3]
            sizes[name] += info.file_size
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
