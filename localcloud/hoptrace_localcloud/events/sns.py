"""SNS event records as SNS hands them to a subscribed function, built from the SNS JSON envelope."""

from __future__ import annotations

from typing import Any


def sns_record(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The envelope SNS writes to SQS carries the same fields; Lambda's spelling of two keys differs."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": envelope.get("Type", "Notification"),
            "MessageId": envelope["MessageId"],
            "TopicArn": envelope["TopicArn"],
            "Subject": envelope.get("Subject"),
            "Message": envelope["Message"],
            "Timestamp": envelope["Timestamp"],
            "SignatureVersion": envelope.get("SignatureVersion", "1"),
            "Signature": envelope.get("Signature", "EXAMPLE"),
            "SigningCertUrl": envelope.get("SigningCertURL", envelope.get("SigningCertUrl", "")),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", envelope.get("UnsubscribeUrl", "")),
            "MessageAttributes": envelope.get("MessageAttributes") or {},
        },
    }


def sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    return {"Records": [sns_record(envelope, subscription_arn)]}
