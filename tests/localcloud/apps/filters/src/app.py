import base64
import os

import boto3


def handler(event, context):
    for record in event["Records"]:
        print("GOT " + record["body"])
    return {}


def stream(event, context):
    for record in event["Records"]:
        if "kinesis" in record:
            print("GOT " + base64.b64decode(record["kinesis"]["data"]).decode())
        else:
            print("GOT " + record["eventName"] + " " + record["dynamodb"]["Keys"]["pk"]["S"])
    return {}


def send(event, context):
    sqs = boto3.client("sqs")
    return [sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=body)["MessageId"]
            for body in event["bodies"]]
