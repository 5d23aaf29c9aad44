"""Reports: once a minute, aggregate the day's orders into a small report in S3 (the batch-task pattern)."""

import json
import os
import time
from collections import Counter
from decimal import Decimal

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
S3 = boto3.client("s3")
BUCKET = os.environ["RECEIPTS_BUCKET"]


def handler(event, context):
    day_start = int(time.time()) // 86400 * 86400
    statuses, revenue, orders = Counter(), Decimal(0), 0
    scan = {"FilterExpression": "created_at >= :d", "ExpressionAttributeValues": {":d": day_start}}
    while True:
        page = TABLE.scan(**scan)
        for order in page["Items"]:
            orders += 1
            statuses[order["status"]] += 1
            if order["status"] in ("paid", "invoiced"):
                revenue += order["amount"]
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    day = time.strftime("%Y-%m-%d", time.gmtime(day_start))
    report = {"day": day, "orders": orders, "by_status": dict(statuses), "revenue": float(revenue)}
    S3.put_object(Bucket=BUCKET, Key=f"reports/{day}.json", Body=json.dumps(report).encode())
    return report
