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


def delivered_event(envelope: Any, account_id: str, region: str) -> Any:
    """A rule-matched event as targets get it: every envelope key AWS sends (moto leaves some out)."""
    if not isinstance(envelope, dict) or "detail-type" not in envelope:
        return envelope
    shaped = {"version": "0", "id": str(uuid.uuid4()), "account": account_id, "region": region,
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "resources": [], **envelope}
    for key in ("account", "region"):
        if not shaped.get(key):
            shaped[key] = account_id if key == "account" else region
    return shaped
