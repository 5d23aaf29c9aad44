"""Send each notifying transition to every configured channel; one channel failing never stops another.

`deliver` returns, per channel, "ok" or what went wrong, and the evaluator stores that on the
transition, so "why did nobody get paged?" has an answer in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from hoptrace_alerts.config import AlertConfig
from hoptrace_alerts.incidents import Transition
from hoptrace_alerts.notify.message import Notification


class Channel(Protocol):
    name: str

    def send(self, notification: Notification) -> None: ...


def channels(config: AlertConfig, sns_client: Any = None) -> list[Channel]:
    """The channels the config turns on."""
    from hoptrace_alerts.notify.sns import SnsChannel
    from hoptrace_alerts.notify.stdout import StdoutChannel
    from hoptrace_alerts.notify.webhook import WebhookChannel

    n = config.notify
    out: list[Channel] = []
    if n["stdout"]:
        out.append(StdoutChannel())
    if n["sns_topic_arn"]:
        out.append(SnsChannel(n["sns_topic_arn"], sns_client))
    if n["webhook_url"]:
        out.append(WebhookChannel(n["webhook_url"], n["webhook_timeout_s"], n["webhook_attempts"],
                                  n["webhook_backoff_s"]))
    return out


def deliver(transition: Transition, dashboard_url: str, targets: Sequence[Channel]) -> dict[str, str]:
    notification = Notification.of(transition, dashboard_url)
    delivery = {}
    for channel in targets:
        try:
            channel.send(notification)
            delivery[channel.name] = "ok"
        except Exception as exc:  # one broken channel must not silence the others
            delivery[channel.name] = f"{type(exc).__name__}: {exc}"[:500]
    return delivery
