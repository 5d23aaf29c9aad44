"""Orders API: place an order (POST /orders) and read it back (GET /orders/{id}).

Plain user code: boto3 only. The order is stored before `OrderPlaced` is published, so every
event a downstream service sees refers to an order that exists. An order placed with
`"checkout": "saga"` is fulfilled by the order saga state machine (reserve stock, charge, confirm;
release the stock if the charge fails) instead of the event chain.
"""

import json
import os
import time
import uuid
from decimal import Decimal

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
SNS = boto3.client("sns")
_SFN = []  # the Step Functions client, made on the first saga order (most orders never need it)
TOPIC_ARN = os.environ["TOPIC_ARN"]
SAGA_ARN = os.environ.get("ORDER_SAGA_ARN", "")
ALLOW_TEST_CLIENT = os.environ.get("ALLOW_TEST_CLIENT") == "true"
TEST_CLIENT_HEADER = "x-demo-test-client"


def handler(event, context):
    method = event["requestContext"]["http"]["method"]
    if method == "POST":
        return place_order(event)
    return get_order(event["pathParameters"]["id"])


def place_order(event):
    try:
        body = json.loads(event.get("body") or "", parse_float=Decimal)
    except ValueError:
        return response(400, {"error": "body must be JSON"})
    skip_validation = ALLOW_TEST_CLIENT and (event.get("headers") or {}).get(TEST_CLIENT_HEADER) == "poison"
    problem = None if skip_validation else validate(body)
    if problem:
        return response(400, {"error": problem})
    order = {
        "order_id": uuid.uuid4().hex[:12],
        "customer": body["customer"],
        "items": [{"sku": i["sku"], "qty": int(i["qty"])} for i in body["items"]],
        "amount": Decimal(str(body["amount"])),
        "status": "placed",
        "created_at": int(time.time()),
    }
    saga = body.get("checkout") == "saga" and SAGA_ARN
    if saga:
        order["payment_token"] = str(body.get("payment_token") or "tok_visa")
    TABLE.put_item(Item=order)
    if saga:
        stepfunctions().start_execution(stateMachineArn=SAGA_ARN, name=f"order-{order['order_id']}",
                            input=json.dumps(order, default=_json_number))
        return response(201, {"order_id": order["order_id"], "status": "placed", "saga": True})
    SNS.publish(
        TopicArn=TOPIC_ARN,
        Message=json.dumps(order, default=str),
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": "OrderPlaced"}},
    )
    return response(201, {"order_id": order["order_id"], "status": "placed"})


def stepfunctions():
    if not _SFN:
        _SFN.append(boto3.client("stepfunctions"))
    return _SFN[0]


def validate(body):
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("customer"), str) or not body["customer"].strip():
        return "customer must be a non-empty string"
    items = body.get("items")
    if not isinstance(items, list) or not items:
        return "items must be a non-empty list"
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            return f"items[{n}].sku must be a string"
        if not isinstance(item.get("qty"), int) or isinstance(item.get("qty"), bool) or item["qty"] < 1:
            return f"items[{n}].qty must be a positive integer"
    amount = body.get("amount")
    if not isinstance(amount, (int, Decimal)) or isinstance(amount, bool) or amount <= 0:
        return "amount must be a positive number"
    return None


def get_order(order_id):
    item = TABLE.get_item(Key={"order_id": order_id}).get("Item")
    if item is None:
        return response(404, {"error": f"no order {order_id}"})
    return response(200, item)


def response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=_json_number),
    }


def _json_number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
