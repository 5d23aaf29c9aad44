"""POST notifications to a webhook (Slack incoming webhook, or anything that takes JSON).

Each attempt has a timeout; connection errors, timeouts, 429 and 5xx answers are retried with
exponential backoff (honouring a short `Retry-After`), other 4xx answers are not (the payload
or the URL is wrong and will stay wrong). Only the stdlib is used: it runs inside the Lambda
evaluator.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from hoptrace_alerts.notify.message import Notification

MAX_RETRY_AFTER_S = 30.0


class WebhookError(RuntimeError):
    """Every attempt failed; the message says how the last one did."""


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 5.0, attempts: int = 3, backoff_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep

    def send(self, notification: Notification) -> None:
        body = json.dumps(notification.slack()).encode()
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self._delay(attempt, problem))
            request = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": "hoptrace-alerts"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after:
                    problem += f" (Retry-After {retry_after})"
                if exc.code != 429 and exc.code < 500:
                    raise WebhookError(f"webhook {self.url} refused the notification: {problem}") from exc
            except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
                problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        raise WebhookError(f"webhook {self.url} failed {self.attempts} time(s); last: {problem}")

    def _delay(self, attempt: int, problem: str) -> float:
        delay = self.backoff_s * 2 ** (attempt - 1)
        if "Retry-After " in problem:
            try:
                delay = max(delay, min(MAX_RETRY_AFTER_S, float(problem.rsplit("Retry-After ", 1)[1].rstrip(")"))))
            except ValueError:
                pass
        return delay
