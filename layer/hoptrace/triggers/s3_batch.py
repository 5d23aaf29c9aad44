"""S3 Batch Operations jobs invoking a function (`invocationSchemaVersion` 1.0 and 2.0)."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import batch_invocation, name_from_arn, text
from hoptrace.triggers.model import Invocation, Record

NAME = "s3_batch"


def matches(event: dict[str, Any]) -> bool:
    return "invocationSchemaVersion" in event and isinstance(event.get("tasks"), list) and "job" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    records = []
    for task in event["tasks"]:
        if not isinstance(task, dict):
            continue
        # Schema 1.0 names the bucket by ARN, 2.0 by name.
        bucket = task.get("s3Bucket") or name_from_arn(task.get("s3BucketArn"))
        task_id = str(task.get("taskId", ""))
        attributes = {semconv.AWS_S3_BUCKET: str(bucket), semconv.FAAS_DOCUMENT_COLLECTION: str(bucket),
                      semconv.MESSAGING_MESSAGE_ID: task_id}
        key = text(task.get("s3Key"), 1024)
        if key:
            attributes[semconv.AWS_S3_KEY] = key
        records.append(Record(f"process {bucket}", task_id, None, attributes))
    job = found if isinstance(found := event.get("job"), dict) else {}
    job_id = str(job.get("id", "unknown"))
    invocation = batch_invocation(NAME, "aws_s3", job_id, records, faas_trigger="datasource")
    invocation.name = f"s3 batch {job_id}"
    invocation.attributes["hoptrace.s3_batch.job_id"] = job_id
    return invocation
