"""Publish notifications to an SNS topic, the AWS way to fan out to email, SMS, SQS, Lambda, chat.

`MessageStructure=json` gives each protocol its own body: people (email, SMS) read the text,
machines (SQS, Lambda, HTTP) get the JSON payload.
"""

from __future__ import annotations

import json
from typing import Any

from hoptrace_alerts.notify.message import Notification


class SnsChannel:
    name = "sns"

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            region = self.topic_arn.split(":")[3] if self.topic_arn.count(":") >= 5 else None
            self._client = boto3.client("sns", region_name=region or None)
        return self._client

    def send(self, notification: Notification) -> None:
        data = json.dumps(notification.payload())
        t = notification.transition
        self.client.publish(
            TopicArn=self.topic_arn, Subject=notification.title[:100], MessageStructure="json",
            Message=json.dumps({"default": notification.text, "email": notification.text, "sqs": data,
                                "lambda": data, "http": data, "https": data}),
            MessageAttributes={"status": {"DataType": "String", "StringValue": notification.status},
                               "rule": {"DataType": "String", "StringValue": t.rule},
                               "subject": {"DataType": "String", "StringValue": t.subject}})
