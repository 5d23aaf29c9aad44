"""Payments: charge each placed order with a (simulated) provider and say how it went on the bus.

Messages arrive from SNS through SQS in SNS's envelope. A declined card is a business outcome
(`PaymentFailed`); an order that cannot be charged at all (a negative amount) is a processing
failure: the record is reported back, retried, and after three receives lands in the DLQ.
"""

import json
import os
import random
import time

import boto3

EVENTS = boto3.client("events")
BUS_NAME = os.environ["BUS_NAME"]
LATENCY_MS = float(os.environ.get("PAYMENT_LATENCY_MS", "40"))
FAILURE_RATE = float(os.environ.get("PAYMENT_FAILURE_RATE", "0.1"))


class UnchargeableOrder(ValueError):
    pass


def handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            charge(json.loads(json.loads(record["body"])["Message"]))
        except UnchargeableOrder as exc:
            print(f"cannot charge message {record['messageId']}: {exc}")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def charge(order):
    amount = float(order["amount"])
    if amount <= 0:
        raise UnchargeableOrder(f"order {order['order_id']} has amount {amount}")
    time.sleep(random.expovariate(1 / LATENCY_MS) / 1000 if LATENCY_MS > 0 else 0)
    declined = random.random() < FAILURE_RATE
    detail = {"order_id": order["order_id"], "amount": amount, "customer": order["customer"]}
    if declined:
        detail["reason"] = "card_declined"
    EVENTS.put_events(Entries=[{
        "Source": "shop.payments",
        "DetailType": "PaymentFailed" if declined else "PaymentSucceeded",
        "Detail": json.dumps(detail),
        "EventBusName": BUS_NAME,
    }])
