"""Asynchronous invocation (InvocationType=Event) as Lambda runs it: an internal queue, retries after
delays, then the dead-letter queue and/or the on-failure destination."""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .events.destinations import dead_letter_attributes, on_failure_record
from .pool import FunctionPool

logger = logging.getLogger("hoptrace.localcloud")


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    pool: FunctionPool = field(compare=False)
    event: Any = field(compare=False)
    attempt: int = field(default=1, compare=False)


class Destinations:
    """Sends a failure to an SQS queue, an SNS topic or another function, chosen by the ARN."""

    def __init__(self, client: Callable[[str], Any], invoke_async: Callable[[str, Any], bool]) -> None:
        self._sqs = client("sqs")
        self._sns = client("sns")
        self._invoke_async = invoke_async
        self._urls: dict[str, str] = {}

    def send(self, arn: str, body: Any, attributes: dict[str, dict[str, str]] | None = None) -> None:
        text = json.dumps(body)
        if ":sqs:" in arn:
            url = self._urls.get(arn)
            if url is None:
                url = self._urls[arn] = self._sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=text, MessageAttributes=attributes or {})
        elif ":sns:" in arn:
            self._sns.publish(TopicArn=arn, Message=text, MessageAttributes=attributes or {})
        elif ":lambda:" in arn and self._invoke_async(arn, body):
            return
        else:
            logger.warning("cannot deliver to %s: only SQS, SNS and local functions are destinations here", arn)


class AsyncInvoker:
    """One dispatcher thread keeps due-ordered jobs; a small thread pool runs the invocations."""

    def __init__(self, destinations: Destinations, retry_delays: tuple[float, ...], max_threads: int = 8) -> None:
        self._destinations = destinations
        self._delays = retry_delays or (0.0,)
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._executor = ThreadPoolExecutor(max_threads, thread_name_prefix="async-invoke")
        self._thread = threading.Thread(target=self._dispatch, name="async-dispatch", daemon=True)
        self._thread.start()

    def submit(self, pool: FunctionPool, event: Any) -> None:
        self._push(_Job(time.monotonic(), next(self._seq), pool, event))

    def _push(self, job: _Job) -> None:
        with self._changed:
            heapq.heappush(self._heap, job)
            self._changed.notify()

    def _dispatch(self) -> None:
        with self._changed:
            while not self._stopped:
                if not self._heap:
                    self._changed.wait()
                    continue
                wait = self._heap[0].due - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                job = heapq.heappop(self._heap)
                try:
                    self._executor.submit(self._run, job)
                except RuntimeError:  # the interpreter is exiting without the cloud stopped: nothing runs now
                    return

    def _run(self, job: _Job) -> None:
        try:
            invocation = job.pool.invoke(job.event)
        except RuntimeError:
            return  # the function was stopped with the cloud
        if not invocation.failed:
            return
        spec = job.pool.spec
        if job.attempt <= spec.max_retry_attempts:
            delay = self._delays[min(job.attempt - 1, len(self._delays) - 1)]
            self._push(_Job(time.monotonic() + delay, next(self._seq), job.pool, job.event, job.attempt + 1))
            return
        try:
            if spec.dead_letter_arn:
                self._destinations.send(spec.dead_letter_arn, job.event,
                                        dead_letter_attributes(invocation.request_id, invocation.error or {}))
            if spec.on_failure_arn:
                record = on_failure_record(invocation.request_id, spec.arn, job.event, invocation.error or {},
                                           job.attempt)
                self._destinations.send(spec.on_failure_arn, record)
        except Exception:  # a destination that fails must not kill the invoker
            logger.exception("could not deliver the failed event of %s to its destination", spec.name)

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._heap.clear()
            self._changed.notify()
        self._thread.join(5)
        self._executor.shutdown(wait=False, cancel_futures=True)
