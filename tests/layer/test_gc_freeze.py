"""Init's objects are frozen out of the garbage collector's scans when init ends (hoptrace.coldstart).

Without it the first full collection after init walks every object botocore loaded (28 ms measured on an
SQS-sending function) inside whichever invocation crosses the collector's threshold: with the layer's
allocations, the first. Each check runs in a fresh interpreter, as a cold start does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = """
import boto3
SQS = boto3.client("sqs", region_name="us-east-1")
def handler(event, context):
    return {"made": [[i] for i in range(20000)][-1], "event": event}
"""
RUNTIME = r"""
import gc, json, sys, types
import hoptrace.handler
frozen_at_init = gc.get_freeze_count()
context = types.SimpleNamespace(aws_request_id="r-1", function_name="f", client_context=None,
                                invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                get_remaining_time_in_millis=lambda: 30000)
event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {"n": 1}}
results = [hoptrace.handler.handler(event, context) for _ in range(3)]
print("FACTS " + json.dumps({"frozen_at_init": frozen_at_init, "frozen_after": gc.get_freeze_count(),
                             "results": results, "event": event}))
"""


def facts(tmp_path: Path, **env_extra: str) -> dict:
    (tmp_path / "app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOPTRACE_")}
    env.update({"HOPTRACE_HANDLER": "app.handler", "PYTHONPATH": str(tmp_path), "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "x", **env_extra})
    done = subprocess.run([sys.executable, "-c", RUNTIME], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(next(x for x in done.stdout.splitlines() if x.startswith("FACTS "))[len("FACTS "):])


def test_init_objects_are_frozen_when_init_ends(tmp_path: Path) -> None:
    # GIVEN a boto3 function behind the handler redirect / WHEN init ends and three invocations run
    seen = facts(tmp_path)
    # THEN what init made (boto3's models among it: tens of thousands of objects) is frozen, once, at init:
    # invocations add nothing to it (frozen objects that reference counting frees leave it)
    assert seen["frozen_at_init"] > 20_000
    assert seen["frozen_after"] <= seen["frozen_at_init"]
    # AND the handler's results and event pass through as without the layer
    assert seen["results"] == [{"made": [19999], "event": seen["event"]}] * 3


@pytest.mark.parametrize("value", ["false", "0"])
def test_the_freeze_is_a_setting(tmp_path: Path, value: str) -> None:
    # GIVEN HOPTRACE_GC_FREEZE turned off / THEN the collector's generations are left as they were
    assert facts(tmp_path, HOPTRACE_GC_FREEZE=value)["frozen_at_init"] == 0
