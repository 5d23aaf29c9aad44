"""Copies function log lines into moto's CloudWatch Logs in batches, so `aws logs filter-log-events`
against the local endpoint shows them too. One PutLogEvents per stream per interval, off the hot path."""

from __future__ import annotations

import logging
import threading
from typing import Any

from .logstore import LogEvent

logger = logging.getLogger("hoptrace.localcloud")


class LogMirror:
    def __init__(self, logs_client: Any, interval: float) -> None:
        self._logs = logs_client
        self._interval = interval
        self._pending: dict[tuple[str, str], list[LogEvent]] = {}
        self._created: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-mirror", daemon=True)

    def __call__(self, event: LogEvent) -> None:
        with self._lock:
            self._pending.setdefault((event.group, event.stream), []).append(event)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def _ensure(self, group: str, stream: str) -> None:
        if (group, stream) in self._created:
            return
        for call, kwargs in ((self._logs.create_log_group, {"logGroupName": group}),
                             (self._logs.create_log_stream, {"logGroupName": group, "logStreamName": stream})):
            try:
                call(**kwargs)
            except self._logs.exceptions.ResourceAlreadyExistsException:
                pass
        self._created.add((group, stream))

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for (group, stream), events in pending.items():
            try:
                self._ensure(group, stream)
                self._logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                    {"timestamp": e.timestamp, "message": e.message} for e in events])
            except Exception as exc:
                logger.debug("mirroring logs of %s to moto failed: %s", group, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
