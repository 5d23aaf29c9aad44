import json
import os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    if event.get("version") == "2.0":
        return {"statusCode": 200, "body": json.dumps({
            "id": event["pathParameters"]["id"], "q": event.get("queryStringParameters"),
            "routeKey": event["routeKey"], "stage": event["requestContext"]["stage"]})}
    if event["httpMethod"] == "GET":
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": "aGVsbG8=", "isBase64Encoded": True}
    order = json.loads(event["body"])
    print(f"ORDER received {order['id']}")
    sns.publish(TopicArn=os.environ["TOPIC_ARN"], Message=json.dumps(order),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})
    return {"statusCode": 202, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"accepted": order["id"], "requestId": context.aws_request_id})}
