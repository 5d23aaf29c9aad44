"""EventBridge envelopes the local scheduler produces (rule-matched events come from moto already shaped)."""

from __future__ import annotations

import time
import uuid
from typing import Any


def scheduled_event(rule_arn: str, account_id: str, region: str, when: float | None = None) -> dict[str, Any]:
    """The envelope of a `Schedule` rule's event: no context, an empty detail."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when or time.time())),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
