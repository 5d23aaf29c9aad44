"""Invoices: a paid order gets a receipt in S3 and an `InvoiceIssued` event."""

import json
import os
import time

import boto3

S3 = boto3.client("s3")
EVENTS = boto3.client("events")
BUCKET = os.environ["RECEIPTS_BUCKET"]
BUS_NAME = os.environ["BUS_NAME"]


def handler(event, context):
    payment = event["detail"]
    key = f"receipts/{payment['order_id']}.json"
    receipt = {"order_id": payment["order_id"], "customer": payment["customer"], "amount": payment["amount"],
               "issued_at": int(time.time())}
    S3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(receipt).encode(), ContentType="application/json")
    EVENTS.put_events(Entries=[{
        "Source": "shop.invoices",
        "DetailType": "InvoiceIssued",
        "Detail": json.dumps({"order_id": payment["order_id"], "customer": payment["customer"], "receipt": key}),
        "EventBusName": BUS_NAME,
    }])
    return {"receipt": key}
