"""The measured handler: imports boto3 and sends one SQS message (the same for every peer)."""

import os

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="bench")
    return {"statusCode": 200}


def noop(event, context):
    return {"statusCode": 200}
