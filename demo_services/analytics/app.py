"""Analytics: reads the orders table's stream and keeps a running count of orders by status.

It never talks to the orders service: DynamoDB Streams hands it every change to the table.
"""

import json

COUNTS = {}


def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage") or {}
        status = image.get("status", {}).get("S", "deleted" if record["eventName"] == "REMOVE" else "unknown")
        COUNTS[status] = COUNTS.get(status, 0) + 1
        order_id = record["dynamodb"]["Keys"]["order_id"]["S"]
        print(json.dumps({"analytics": record["eventName"], "order_id": order_id, "status": status}))
    return {"batchItemFailures": []}
