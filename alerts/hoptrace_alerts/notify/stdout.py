"""Print notifications: in Lambda that is the function's log, on a terminal the operator's screen."""

from __future__ import annotations

import sys
from typing import TextIO

from hoptrace_alerts.notify.message import Notification


class StdoutChannel:
    name = "stdout"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, notification: Notification) -> None:
        print(notification.text, file=self.stream or sys.stdout, flush=True)
