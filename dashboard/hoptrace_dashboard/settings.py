"""What the dashboard process was started with, read once from its environment.

`hoptrace dashboard` passes the store URL and the access token to `streamlit run` through
the environment rather than the command line, so the token never shows in `ps`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_STORE = "HOPTRACE_DASHBOARD_STORE"
ENV_TOKEN = "HOPTRACE_DASHBOARD_TOKEN"
CACHE_TTL_S = 15  # how far behind the store a page may be: queries are cached this long


@dataclass(frozen=True)
class Settings:
    store_url: str | None
    token: str | None  # None: no token asked (the default, bound to 127.0.0.1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(store_url=environ.get(ENV_STORE, "").strip() or None,
                   token=environ.get(ENV_TOKEN, "") or None)
