"""One flag: "this HTTP request is an AWS SDK call's own", so it gets no second client span.

The idents (`_thread.get_ident()`) of the threads inside an AWS SDK call right now: botocore's calls are
synchronous, so a thread is in one for its whole length, and adding and removing an int costs a
fraction of a context variable's set and reset, paid on every SDK call.
"""

from __future__ import annotations

IN_AWS_CALL: set[int] = set()
