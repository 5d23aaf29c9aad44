import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    print(f"NOTIFY {event['detail']['orderId']} {event['detail-type']}")
    table.put_item(Item={"orderId": event["detail"]["orderId"], "kind": event["detail"]["kind"]})
