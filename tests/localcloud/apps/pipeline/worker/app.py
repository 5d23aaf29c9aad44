import json
import os

import boto3

events = boto3.client("events")


def handler(event, context):
    failures = []
    for record in event["Records"]:
        envelope = json.loads(record["body"])
        order = json.loads(envelope["Message"])
        if order.get("poison"):
            print(f"POISON {record['messageId']} receive {record['attributes']['ApproximateReceiveCount']}")
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        events.put_events(Entries=[{
            "Source": "orders", "DetailType": "OrderAccepted", "EventBusName": os.environ["BUS_NAME"],
            "Detail": json.dumps({"orderId": order["id"], "kind": envelope["MessageAttributes"]["kind"]["Value"]}),
        }])
    return {"batchItemFailures": failures}
