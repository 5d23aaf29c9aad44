"""Payments' part of the order saga: charge the order through the (simulated) provider.

The provider answers like a card processor's test tokens: `tok_chargeDeclined` is declined
(`PaymentDeclined`, not retried: the saga compensates), `tok_providerBusy` is busy on the first attempt
(`ProviderUnavailable`, which the state machine retries), anything else is charged (or declined at the
configured rate). Plain user code.
"""

import os
import random
import time

LATENCY_MS = float(os.environ.get("PAYMENT_LATENCY_MS", "40"))
FAILURE_RATE = float(os.environ.get("PAYMENT_FAILURE_RATE", "0.1"))


class PaymentDeclined(Exception):
    pass


class ProviderUnavailable(Exception):
    pass


def handler(event, context):
    order = event["order"]
    time.sleep(random.expovariate(1 / LATENCY_MS) / 1000 if LATENCY_MS > 0 else 0)
    token = order.get("payment_token", "tok_visa")
    if token == "tok_providerBusy" and int(event.get("retryCount") or 0) == 0:
        raise ProviderUnavailable("the payment provider is busy; try again")
    if token == "tok_chargeDeclined" or (token == "tok_visa" and random.random() < FAILURE_RATE):
        raise PaymentDeclined(f"the card was declined for order {order['order_id']}")
    return {"payment_id": f"pay-{order['order_id']}", "amount": order["amount"]}
