"""Cold-start tracking: a module-level flag flipped on the first invocation in the process.

Init is measured from the process start (read from /proc, so interpreter start-up and
every import count, as in Lambda's own Init Duration) to the first invocation.

Lambda may initialise an on-demand sandbox proactively, long before any request arrives. A first
invocation that starts more than `PROACTIVE_GAP_NS` (10 s, as Datadog's library uses) after init
finished (the last `wrap` of init) did not wait for that init: it is no cold start the request paid
for (`faas.coldstart=false`, `hoptrace.coldstart.proactive=true`).

When init ends, its objects are frozen out of the garbage collector's reach (`gc.freeze`, on unless
`HOPTRACE_GC_FREEZE=false`). A function's init leaves tens of thousands of tracked objects behind
(about 61,000 for one boto3 client, its service model above all), and the first full collection after
it walks every one: measured at 28 ms on an SQS-sending function, paid by whichever invocation's
allocations cross the collector's threshold, with the layer most often the first. Frozen, they are
skipped by every later collection; they are still freed by reference counting, so only a reference
cycle made at init and dropped later outlives its use.
"""

from __future__ import annotations

import gc
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
_frozen = False


def init_done(freeze: bool = True) -> None:
    """Init's last step so far (called by `wrap`, which runs while the handler's module is imported);
    `freeze`: what init made so far is moved out of the collector's generations (O(1), see above), once
    per process, so a test process that wraps handler after handler does not keep freezing its garbage."""
    global _init_done_ns, _frozen
    if _FIRST:
        _init_done_ns = time.time_ns()
        if freeze and not _frozen:
            _frozen = True
            gc.freeze()


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
