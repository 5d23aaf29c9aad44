"""Malformed input is counted, never fatal: a few bad lines must not cost the rest of a batch.

Each problem has a kind (a stable, countable word) and a detail (what exactly, for a human);
the first few details are kept as samples. A batch with problems logs one structured line
that starts with `LOG_PREFIX`, never with `HOPTRACE`, so the collector never ingests itself.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from hoptrace.redaction import redact_text

LOG_PREFIX = "hoptrace-collector "
MAX_SAMPLES = 10


@dataclass
class Problems:
    counts: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def add(self, kind: str, detail: str = "", count: int = 1) -> None:
        self.counts[kind] += count
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(f"{kind}: {detail}"[:300] if detail else kind)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def as_dict(self) -> dict[str, int]:
        return dict(self.counts)


def log_line(event: str, stream: TextIO | None = None, /, **fields: Any) -> None:
    """One structured line in the collector's own log (JSON after a fixed, non-HOPTRACE prefix)."""
    text = LOG_PREFIX + redact_text(json.dumps({"event": event, **fields}, separators=(",", ":"), default=str))
    print(text, file=stream or sys.stdout, flush=True)
