"""Order status: the orders service follows its order's life from the events other services emit.

The orders table belongs to the orders service, so payments and invoices never write to it;
they publish what happened and this function records it.
"""

import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
STATUS = {"PaymentSucceeded": "paid", "PaymentFailed": "payment_failed", "InvoiceIssued": "invoiced"}


def handler(event, context):
    status = STATUS[event["detail-type"]]
    order_id = event["detail"]["order_id"]
    TABLE.update_item(
        Key={"order_id": order_id},
        UpdateExpression="SET #s = :s",
        ConditionExpression="attribute_exists(order_id)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status},
    )
    return {"order_id": order_id, "status": status}
