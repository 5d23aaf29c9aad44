"""Notifications: tell the customer. The (simulated) email provider fails now and then.

Invoked asynchronously by EventBridge, so a raised error makes Lambda retry the event twice
and then hand it to the function's dead-letter queue: the failure path worth watching.
"""

import os
import random
import time

FAILURE_RATE = float(os.environ.get("NOTIFICATION_FAILURE_RATE", "0.2"))

TEMPLATES = {
    "InvoiceIssued": "Your order {order_id} is paid; the receipt is at {receipt}.",
    "PaymentFailed": "We could not charge your card for order {order_id}.",
}


class ProviderUnavailable(RuntimeError):
    pass


def handler(event, context):
    detail = event["detail"]
    message = TEMPLATES[event["detail-type"]].format_map({"receipt": "", **detail})
    time.sleep(random.uniform(0.005, 0.02))
    if random.random() < FAILURE_RATE:
        raise ProviderUnavailable("email provider returned 503")
    print(f"sent to {detail['customer']}: {message}")
    return {"sent": True}
