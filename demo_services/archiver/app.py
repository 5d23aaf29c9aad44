"""Archiver: every receipt invoices writes to S3 is copied under archive/ with its issue date.

S3 notifies it of each new receipts/ object; the bucket and key come from the notification.
"""

import json
import time
from urllib.parse import unquote_plus

import boto3

S3 = boto3.client("s3")


def handler(event, context):
    archived = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        receipt = json.loads(S3.get_object(Bucket=bucket, Key=key)["Body"].read())
        day = time.strftime("%Y/%m/%d", time.gmtime(receipt.get("issued_at", time.time())))
        target = f"archive/{day}/{key.rsplit('/', 1)[-1]}"
        S3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
        archived.append(target)
    return {"archived": archived}
