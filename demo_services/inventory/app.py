"""Inventory: reserve stock for each placed order.

Messages arrive raw (no SNS envelope). The order is read back from the orders service over
HTTP before reserving, the synchronous service-to-service call most systems have somewhere.
"""

import json
import os
import urllib.request

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["INVENTORY_TABLE"])
ORDERS_API_URL = os.environ["ORDERS_API_URL"].rstrip("/")
INITIAL_STOCK = 1000


def handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            reserve(json.loads(record["body"]))
        except Exception as exc:  # one bad record must not fail the batch
            print(f"cannot reserve stock for message {record['messageId']}: {exc!r}")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def reserve(placed):
    with urllib.request.urlopen(f"{ORDERS_API_URL}/orders/{placed['order_id']}", timeout=5) as response:
        order = json.loads(response.read())
    for item in order["items"]:
        TABLE.update_item(
            Key={"sku": item["sku"]},
            UpdateExpression="SET stock = if_not_exists(stock, :initial) - :qty ADD reserved :qty",
            ExpressionAttributeValues={":initial": INITIAL_STOCK, ":qty": int(item["qty"])},
        )
