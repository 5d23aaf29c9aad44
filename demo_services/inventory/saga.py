"""Inventory's part of the order saga: reserve an order's stock, and release it again (the compensation).

Invoked by the order saga state machine (Step Functions), with the order and a little of the execution's
context (`executionId`, `stateName`, `enteredTime`) in the payload. Plain boto3.
"""

import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["INVENTORY_TABLE"])


def reserve(event, context):
    order = event["order"]
    for item in order["items"]:
        TABLE.update_item(Key={"sku": item["sku"]}, UpdateExpression="ADD reserved :q",
                          ExpressionAttributeValues={":q": int(item["qty"])})
    return {"reservation_id": f"res-{order['order_id']}"}


def release(event, context):
    order = event["order"]
    for item in order["items"]:
        TABLE.update_item(Key={"sku": item["sku"]}, UpdateExpression="ADD reserved :q",
                          ExpressionAttributeValues={":q": -int(item["qty"])})
    print(f"released the stock of order {order['order_id']} after {order.get('error', {}).get('Error')}")
    return {"released": order["order_id"]}
