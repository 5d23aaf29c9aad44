"""The cyclic garbage collector paused while a batch is decoded and written.

Decoding a payload allocates a few dicts, lists and records per span and frees none of them
until the batch is stored, so the collector's young-generation passes run every few hundred
allocations and find nothing to free (ingest makes no reference cycles): about a tenth of
ingest's CPU time in the benchmark. Reference counting still frees everything as usual; the
collector runs again when the batch is done. Resumed only if this call paused it, so nested or
concurrent batches (the OTLP receiver's threads) and a process that disabled it itself are
left as they were.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    running = gc.isenabled()
    if running:
        gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
