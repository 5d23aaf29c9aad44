"""Which queues are dead-letter queues: those some other queue's `RedrivePolicy` points at.

Lambda's own asynchronous-invocation DLQs are not visible this way (they are set on the
function, not on a queue); list them in `HOPTRACE_DLQ_URLS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DeadLetterQueue:
    url: str
    name: str
    sources: tuple[str, ...] = ()  # names of the queues that redrive into it

    @property
    def source(self) -> str | None:
        return self.sources[0] if self.sources else None


def queue_name(url_or_arn: str) -> str:
    return url_or_arn.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]


def all_queue_urls(sqs: Any) -> list[str]:
    urls: list[str] = []
    for page in sqs.get_paginator("list_queues").paginate():
        urls.extend(page.get("QueueUrls", []))
    return urls


def discover(sqs: Any) -> list[DeadLetterQueue]:
    """Every dead-letter queue of the account/region, with the queues that feed it."""
    urls = all_queue_urls(sqs)
    by_name = {queue_name(url): url for url in urls}
    sources: dict[str, list[str]] = {}
    for url in urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        try:
            target = json.loads(attributes.get("RedrivePolicy", "{}")).get("deadLetterTargetArn")
        except (ValueError, AttributeError):
            continue
        if isinstance(target, str) and queue_name(target) in by_name:
            sources.setdefault(queue_name(target), []).append(queue_name(url))
    return [DeadLetterQueue(by_name[name], name, tuple(sorted(feeding))) for name, feeding in sorted(sources.items())]


def configured(urls: tuple[str, ...] | list[str], sqs: Any | None = None) -> list[DeadLetterQueue]:
    """The queues named in HOPTRACE_DLQ_URLS, with their sources when the account can be listed."""
    found = {q.url: q for q in discover(sqs)} if sqs is not None else {}
    return [found.get(url) or DeadLetterQueue(url, queue_name(url)) for url in urls]
