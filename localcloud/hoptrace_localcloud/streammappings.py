"""`AWS::Lambda::EventSourceMapping` on a Kinesis stream or a DynamoDB stream, as Lambda runs one.

Per shard, in order: read with `GetRecords` from `StartingPosition`, fill a batch up to `BatchSize`
within `MaximumBatchingWindowInSeconds`, invoke synchronously, then checkpoint. A failed batch is
retried (`MaximumRetryAttempts`, -1 = until it succeeds, as on AWS), split in halves first when
`BisectBatchOnFunctionError` is on; with `ReportBatchItemFailures` a response naming sequence numbers
checkpoints before the lowest one and retries from it. A batch that runs out of retries goes to
`DestinationConfig.OnFailure` (an SQS queue or SNS topic) as Lambda's batch-info record and is skipped.
`FilterCriteria` are applied as records are read, before batching: a record no filter matches is skipped
(checkpointed past) without an invocation, as Lambda discards it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from .esm import RecordFilter, failed_message_ids
from .eventpattern import PatternError, compile_filters, kinesis_filter_view, parse_pattern
from .events.streams import dynamodb_record, failure_record, kinesis_record, sequence_of
from .pool import FunctionPool

logger = logging.getLogger("hoptrace.localcloud")
IDLE_POLL_S = 0.25  # Lambda polls each shard about four times a second
RETRY_DELAY_S = 0.2


class StreamMapping:
    """One mapping's reader: a thread that walks the stream's shards and invokes the function."""

    def __init__(self, wiring: Any, pool: FunctionPool, source_arn: str, props: dict[str, Any],
                 record_filter: RecordFilter | None = None) -> None:
        self._wiring = wiring
        self._pool = pool
        self._arn = source_arn
        self._kinesis = ":kinesis:" in source_arn
        self._client = wiring._p.client("kinesis" if self._kinesis else "dynamodbstreams")
        self._region = wiring._p.region
        self._role = wiring._p.arn("iam", f"role/{pool.spec.name}-role").replace(f":{self._region}:", "::")
        self._batch_size = int(props.get("BatchSize", 100))
        self._window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self._position = str(props.get("StartingPosition", "LATEST"))
        self._bisect = str(props.get("BisectBatchOnFunctionError", False)).lower() == "true"
        self._retries = int(props.get("MaximumRetryAttempts", -1))
        self._partial = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self._on_failure = str(((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination") or "")
        self._filter = record_filter
        self._stop = threading.Event()
        self._iterators: dict[str, str] = {}
        self._thread = threading.Thread(target=self._loop, name=f"stream-{pool.spec.name}", daemon=True)

    # the QueuePoller interface the cloud starts and stops
    def start(self) -> None:
        self._iterators = self._open_shards()
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _open_shards(self) -> dict[str, str]:
        # moto's Kinesis iterators remember the stream only when it is named, not given by ARN.
        source = {"StreamName": self._arn.rsplit("/", 1)[-1]} if self._kinesis else {"StreamArn": self._arn}
        shards = self._client.describe_stream(**source)["StreamDescription"]["Shards"]
        position = self._position if self._position in ("LATEST", "TRIM_HORIZON") else "TRIM_HORIZON"
        return {shard["ShardId"]: self._client.get_shard_iterator(
            **source, ShardId=shard["ShardId"], ShardIteratorType=position)["ShardIterator"] for shard in shards}

    def _read(self, shard: str, limit: int) -> list[dict[str, Any]]:
        iterator = self._iterators.get(shard)
        if not iterator:
            return []
        response = self._client.get_records(ShardIterator=iterator, Limit=max(1, min(limit, 1000)))
        self._iterators[shard] = response.get("NextShardIterator") or ""
        if self._kinesis:
            records = [kinesis_record(r, shard, self._arn, self._region, self._role) for r in response["Records"]]
        else:
            records = [dynamodb_record(r, self._arn, self._region) for r in response["Records"]]
        if self._filter is None:
            return records
        # A DynamoDB record is matched as delivered (`eventName`, `dynamodb.NewImage` with its type
        # descriptors, ...); a Kinesis record by its `data` only, decoded.
        if self._kinesis:
            return [record for record in records if self._filter(kinesis_filter_view(record))]
        return [record for record in records if self._filter(record)]

    def _loop(self) -> None:
        pending: dict[str, list[dict[str, Any]]] = {shard: [] for shard in self._iterators}
        first_seen: dict[str, float] = {}
        while not self._stop.is_set():
            busy = False
            for shard, batch in pending.items():
                try:
                    batch += self._read(shard, self._batch_size - len(batch))
                except Exception as exc:
                    if self._stop.is_set():
                        return
                    logger.warning("reading %s %s failed (%s); retrying in 1 s", self._arn, shard, exc)
                    self._stop.wait(1)
                    continue
                if not batch:
                    continue
                first_seen.setdefault(shard, time.monotonic())
                if len(batch) < self._batch_size and time.monotonic() - first_seen[shard] < self._window:
                    continue
                taken, pending[shard] = batch[:self._batch_size], batch[self._batch_size:]
                first_seen.pop(shard, None)
                busy = True
                try:
                    self._deliver(shard, taken, 0)
                except Exception:
                    logger.exception("delivering a batch from %s failed", self._arn)
            if not busy:
                self._stop.wait(IDLE_POLL_S)

    def _deliver(self, shard: str, batch: list[dict[str, Any]], attempts: int) -> None:
        """Invoke until the batch is done, split or given up on; `attempts` counts the failed tries so far."""
        while batch and not self._stop.is_set():
            invocation = self._pool.invoke({"Records": batch})
            failed_from = 0 if invocation.failed else self._first_failure(invocation.payload, batch)
            if failed_from is None:
                return
            batch = batch[failed_from:]
            attempts += 1
            if 0 <= self._retries < attempts:
                self._give_up(shard, batch, attempts, invocation.error)
                return
            if self._bisect and invocation.failed and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(shard, batch[:half], attempts)
                self._deliver(shard, batch[half:], attempts)
                return
            self._stop.wait(RETRY_DELAY_S)

    def _first_failure(self, payload: Any, batch: list[dict[str, Any]]) -> int | None:
        """Index of the first record to retry, or None when the whole batch succeeded."""
        if not self._partial:
            return None
        sequences = [sequence_of(r) for r in batch]
        failed = failed_message_ids(payload, set(sequences))
        if failed is None:  # an unknown or empty itemIdentifier fails the whole batch, as on AWS
            return 0
        if not failed:
            return None
        return min(sequences.index(s) for s in failed)

    def _give_up(self, shard: str, batch: list[dict[str, Any]], attempts: int, error: Any) -> None:
        record = failure_record(batch, shard, self._arn, self._pool.spec.arn, attempts, error)
        logger.warning("%s: %d record(s) from %s skipped after %d attempts", self._pool.spec.name, len(batch),
                       shard, attempts)
        if ":sqs:" in self._on_failure:
            sqs = self._wiring._p.client("sqs")
            url = sqs.get_queue_url(QueueName=self._on_failure.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif ":sns:" in self._on_failure:
            self._wiring._p.client("sns").publish(TopicArn=self._on_failure, Message=json.dumps(record))


def add(wiring: Any, logical_id: str, pool: FunctionPool, source: str, props: dict[str, Any]) -> None:
    """Called by `TriggerWiring` for a mapping whose source is a Kinesis or DynamoDB stream."""
    for key in ("ParallelizationFactor", "TumblingWindowInSeconds", "MaximumRecordAgeInSeconds"):
        if key in props:
            wiring._diag.unsupported(logical_id, key, "ignored locally")
    try:
        record_filter = compile_filters(props.get("FilterCriteria"))
    except PatternError as exc:
        wiring._diag.unsupported(logical_id, "FilterCriteria", f"{exc}; this trigger never fires")
        return
    if record_filter is not None and ":kinesis:" in source:
        _warn_kinesis_metadata_keys(wiring, logical_id, props["FilterCriteria"])
    wiring.pollers.append(StreamMapping(wiring, pool, source, props, record_filter))
    kind = "Kinesis" if ":kinesis:" in source else "DynamoDB stream"
    wiring.summary.add(pool.spec.name, f"{kind} {source.split('/')[1] if '/' in source else source} "
                                       f"(batch {props.get('BatchSize', 100)})")


def _warn_kinesis_metadata_keys(wiring: Any, logical_id: str, criteria: dict[str, Any]) -> None:
    """Kinesis mappings filter on `data` only (Lambda's documentation); a pattern on another key matches no
    record, which is worth a line at start-up rather than a silent never-called function."""
    for index, entry in enumerate(criteria.get("Filters") or []):
        pattern = parse_pattern(entry.get("Pattern") if isinstance(entry, dict) else entry)
        others = sorted(set(pattern) - {"data", "$or"})
        if others:
            wiring._diag.unsupported(logical_id, f"FilterCriteria.Filters[{index}]",
                                     f"{', '.join(others)}: Kinesis mappings filter on `data` only; "
                                     "this filter passes no record")
