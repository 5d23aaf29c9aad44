"""DynamoDB calls with the retries batching needs, and errors turned into StoreError.

BatchWriteItem and BatchGetItem may succeed partly and hand back `UnprocessedItems` /
`UnprocessedKeys` (under throttling or when a partition is busy): those are retried with
exponential backoff and jitter, as AWS asks. Throttling errors of any call are retried the
same way; when the budget is spent, or for any other error, the caller gets StoreError and
the collector lets its batch be retried later (every write here is idempotent).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hoptrace_collector.store.base import StoreError, UnstorableError

THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                        "InternalServerError", "ServiceUnavailable", "LimitExceededException"})
WRITE_CHUNK = 25
GET_CHUNK = 100
#: Conditional puts of one write go out this many at a time (BatchWriteItem takes no conditions).
PARALLEL_PUTS = 8


class DynamoCalls:
    def __init__(self, client: Any, table: str, max_attempts: int = 8, base_delay_s: float = 0.05,
                 max_delay_s: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.table = table
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        self.retries = 0  # throttled calls and unprocessed leftovers retried, for tests and the benchmark
        #: Round trips waited for one after another (parallel puts count once per wave): the benchmark
        #: turns them into the collector's billed time.
        self.waits = 0
        self._pooled = threading.local()
        self._pool: ThreadPoolExecutor | None = None

    def _backoff(self, attempt: int) -> None:
        self.retries += 1
        self.sleep(min(self.max_delay_s, self.base_delay_s * 2 ** attempt) * random.uniform(0.5, 1.0))

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; throttling retried with backoff; any failure becomes StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not getattr(self._pooled, "active", False):
            self.waits += 1
        for attempt in range(self.max_attempts):
            try:
                return getattr(self.client, operation)(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in THROTTLING:
                    if attempt + 1 < self.max_attempts:
                        self._backoff(attempt)
                        continue
                    raise StoreError(f"DynamoDB {operation} on {self.table!r}: still throttled ({code}) after "
                                     f"{self.max_attempts} tries; the batch will be retried") from exc
                if code == "ValidationException" and "size" in str(exc.response.get("Error", {}).get("Message")):
                    raise UnstorableError(f"DynamoDB {operation} on {self.table!r}: an item is too large "
                                          f"({exc.response['Error'].get('Message')})") from exc
                if code == "ResourceNotFoundException":
                    raise StoreError(f"DynamoDB table {self.table!r} does not exist: deploy it, or open the store "
                                     "with create=1 (dynamodb://table?create=1)") from exc
                raise StoreError(f"DynamoDB {operation} on {self.table!r} failed: {code}: "
                                 f"{exc.response.get('Error', {}).get('Message', exc)}") from exc
            except BotoCoreError as exc:
                raise StoreError(f"DynamoDB {operation} on {self.table!r} failed: {exc}") from exc
            except (UnicodeEncodeError, OverflowError) as exc:  # raised while the request is serialised
                raise UnstorableError(f"DynamoDB {operation} on {self.table!r}: a record cannot be sent "
                                      f"({type(exc).__name__}: {exc})") from exc
        raise AssertionError("unreachable: every attempt returns or raises")

    def conditional(self, operation: str, **kwargs: Any) -> bool:
        """A conditional write: False when its condition did not hold (someone else wrote first)."""
        from botocore.exceptions import ClientError

        try:
            self.call(operation, **kwargs)
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_all(self, puts: list[dict[str, Any]]) -> list[bool]:
        """PutItem calls (each with its ConditionExpression), PARALLEL_PUTS at a time; which conditions held."""
        if len(puts) <= 1:
            return [self.conditional("put_item", TableName=self.table, **put) for put in puts]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(PARALLEL_PUTS, thread_name_prefix="hoptrace-dynamodb")
        self.waits += math.ceil(len(puts) / PARALLEL_PUTS)

        def put(request: dict[str, Any]) -> bool:
            self._pooled.active = True
            return self.conditional("put_item", TableName=self.table, **request)

        return list(self._pool.map(put, puts))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def batch_get(self, keys: list[dict[str, Any]], projection: str | None = None,
                  names: dict[str, str] | None = None, consistent: bool = False) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        unique = list({_key_id(k): k for k in keys}.values())
        for start in range(0, len(unique), GET_CHUNK):
            request: dict[str, Any] = {"Keys": unique[start:start + GET_CHUNK]}
            if projection:
                request["ProjectionExpression"] = projection
            if names:
                request["ExpressionAttributeNames"] = names
            if consistent:
                request["ConsistentRead"] = True
            pending = {self.table: request}
            for attempt in range(self.max_attempts):
                response = self.call("batch_get_item", RequestItems=pending)
                items.extend(response.get("Responses", {}).get(self.table, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise StoreError(f"DynamoDB BatchGetItem on {self.table!r}: keys still unprocessed after "
                                 f"{self.max_attempts} tries")
        return items

    def batch_write(self, puts: Sequence[dict[str, Any]] = (), deletes: Sequence[dict[str, Any]] = ()) -> None:
        """Put and delete items, 25 per request; a key given twice keeps its last version."""
        requests: dict[tuple[str, str], dict[str, Any]] = {}
        for item in puts:
            requests[_key_id(item)] = {"PutRequest": {"Item": item}}
        for key in deletes:
            requests[_key_id(key)] = {"DeleteRequest": {"Key": key}}
        ordered = list(requests.values())
        for start in range(0, len(ordered), WRITE_CHUNK):
            pending = {self.table: ordered[start:start + WRITE_CHUNK]}
            for attempt in range(self.max_attempts):
                pending = self.call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise StoreError(f"DynamoDB BatchWriteItem on {self.table!r}: items still unprocessed after "
                                 f"{self.max_attempts} tries")

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a Query, page by page, fetched only as the caller consumes them."""
        return self._pages("query", kwargs)

    def scan(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self._pages("scan", kwargs)

    def _pages(self, operation: str, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            response = self.call(operation, TableName=self.table, **kwargs)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last


def _key_id(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]
