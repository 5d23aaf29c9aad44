"""Cold-start tracking: a module-level flag flipped on the first invocation in the process.

Init is measured from the process start (read from /proc, so interpreter start-up and
every import count, as in Lambda's own Init Duration) to the first invocation.

Lambda may initialise an on-demand sandbox proactively, long before any request arrives. A first
invocation that starts more than `PROACTIVE_GAP_NS` (10 s, as Datadog's library uses) after init
finished (the last `wrap` of init) did not wait for that init: it is no cold start the request paid
for (`faas.coldstart=false`, `hoptrace.coldstart.proactive=true`).
"""

from __future__ import annotations

import os
import time

_FIRST = True
LAYER_IMPORTED_NS = time.time_ns()
INIT_TYPE = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")


def _process_start_ns() -> int:
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of stat(5), counted after "pid (comm)"
        age_s = time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks / os.sysconf("SC_CLK_TCK")
        return min(LAYER_IMPORTED_NS, time.time_ns() - int(age_s * 1e9))
    except (OSError, ValueError, IndexError, AttributeError):
        return LAYER_IMPORTED_NS


PROCESS_START_NS = _process_start_ns()
PROACTIVE_GAP_NS = 10 * 10**9
_init_done_ns = LAYER_IMPORTED_NS


def init_done() -> None:
    """Init's last step so far (called by `wrap`, which runs while the handler's module is imported)."""
    global _init_done_ns
    if _FIRST:
        _init_done_ns = time.time_ns()


def proactive(now_ns: int | None = None) -> bool:
    """An on-demand sandbox whose init finished long before this, its first invocation, started."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    return INIT_TYPE == "on-demand" and now_ns - _init_done_ns > PROACTIVE_GAP_NS


def take() -> bool:
    """True exactly once per process: for the invocation that paid for the init."""
    global _FIRST
    first, _FIRST = _FIRST, False
    return first


def paid_by_request() -> bool:
    """Provisioned concurrency and SnapStart init before any request arrives."""
    return INIT_TYPE == "on-demand"


_IMPORTS: list[tuple[str, int, int]] = []  # (module, start ns, end ns), filled by `import_timing` when on


def imports() -> list[tuple[str, int, int]]:
    """The timed imports of the user's code (`HOPTRACE_COLDSTART_IMPORTS`), for the init span's children."""
    return _IMPORTS
