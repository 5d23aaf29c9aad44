"""Python `logging` records carry the running span's `trace_id` and `span_id` (32 and 16 hex).

So structured logs that go elsewhere — a JSON formatter, Powertools Logger, Lambda's JSON log
format, a log shipper — can be joined to their trace, as Powertools does with its X-Ray id, and
the collector ties a line to the very span (a batch record) it was logged in.

Installed once at init as a LogRecord factory wrapping whatever factory was there; per record it
costs one context lookup and two string formats, and nothing on the handler's hot path. The
ids are in the record's `__dict__` (formatters that serialise every extra field see them), yet
`logger.info(..., extra={"trace_id": ...})` still works: the standard `makeRecord` refuses an
`extra` key already on the record, so the record's dict reports our two keys as absent to `in`
and the caller's value simply replaces ours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hoptrace import health
from hoptrace.current import current_ids

TRACE_ID = "trace_id"
SPAN_ID = "span_id"
_OURS = frozenset({TRACE_ID, SPAN_ID})


class _RecordDict(dict[str, Any]):
    __slots__ = ()

    def __contains__(self, key: object) -> bool:
        return key not in _OURS and dict.__contains__(self, key)


def install() -> bool:
    """Wrap the current LogRecord factory (once); False if it was already wrapped."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "__hoptrace__", False):
        return False
    logging.setLogRecordFactory(_factory(previous))
    return True


def _factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            ids = current_ids()
            if ids is not None:
                fields = _RecordDict(record.__dict__)
                fields[TRACE_ID] = f"{ids[0]:032x}"
                fields[SPAN_ID] = f"{ids[1]:016x}"
                record.__dict__ = fields
        except Exception as error:
            health.swallow("logcorrelation", error)
        return record

    factory.__hoptrace__ = True  # type: ignore[attr-defined]  # a marker on our own function
    return factory
