"""`AWS::Kinesis::Stream`: a stream in moto with the template's shard count, `Ref` its name, `Arn` its ARN."""

from __future__ import annotations

import time
from typing import Any

from .resources import ResourceInfo


def create_stream(p: Any, logical_id: str, props: dict[str, Any]) -> ResourceInfo:
    name = p.physical_name(logical_id, props, "Name", 128)
    kinesis = p.client("kinesis")
    mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    kwargs: dict[str, Any] = {"StreamName": name}
    if mode == "ON_DEMAND":
        kwargs["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        kwargs["ShardCount"] = int(props.get("ShardCount", 1))
    kinesis.create_stream(**kwargs)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # moto makes streams ACTIVE at once; AWS takes a while
        description = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if description["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    return ResourceInfo(logical_id, "AWS::Kinesis::Stream", name, {"Arn": description["StreamARN"]})
