"""The evaluator as a Lambda function: configured by its environment, evaluating at the scheduled event's time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hoptrace_alerts import handler as evaluator_function
from hoptrace_alerts.states import open_state_store
from hoptrace_collector.store import Store
from tests.alerts.conftest import RULES_TOML
from tests.alerts.receivers import Receiver, serving
from tests.alerts.traffic import Traffic, minute
from tests.conftest import load_event

#: What the Lambda Python runtime provides besides the stdlib (boto3 and its dependencies), and our own packages.
ALLOWED = {"hoptrace_alerts", "hoptrace_collector", "hoptrace", "boto3", "botocore", "s3transfer", "jmespath",
           "dateutil", "urllib3", "six", "certifi", "__main__", "_distutils_hack",
           # optional: the store's JSON uses it when installed (collector/requirements.txt puts it in the
           # package layer) and falls back to the standard library without it (tests/collector/test_jsonlib.py)
           "orjson"}


SCHEDULED = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "time": "2026-11-25T08:00:00Z", "detail": {}, "resources": ["arn:aws:events:us-east-1:1:rule/alerts"]}


@pytest.fixture
def lambda_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOPTRACE_STORE", store.url)
    monkeypatch.setenv("HOPTRACE_ALERT_RULES", RULES_TOML)
    monkeypatch.setenv("HOPTRACE_DASHBOARD_URL", "https://hoptrace.example.com")
    monkeypatch.setattr(evaluator_function, "_RUNTIME", None)


def test_a_scheduled_invocation_evaluates_and_notifies_once(
        store: Store, lambda_env: None, monkeypatch: pytest.MonkeyPatch, lambda_context: object) -> None:
    traffic = Traffic()
    traffic.steady("payments", range(0, 6))
    traffic.minute_of("payments", 6, errors=10)
    traffic.write(store)
    with serving(Receiver()) as receiver:
        monkeypatch.setenv("HOPTRACE_ALERT_WEBHOOK_URL", receiver.url)
        # GIVEN the function's first invocation builds the evaluator from the environment (at minute 7, pinned)
        evaluator_function._RUNTIME = evaluator_function.build(clock=lambda: minute(7))
        result = evaluator_function.handler(SCHEDULED, lambda_context)
        again = evaluator_function.handler(SCHEDULED, lambda_context)  # delivered twice
    assert result["time_ns"] == minute(7)
    assert result["firing"] == ["error_spike:payments"]
    assert result["transitions"] == ["error_spike:payments:ok->firing"]
    assert again["transitions"] == [] and again["firing"] == ["error_spike:payments"]
    assert len(receiver.received) == 1
    alert = receiver.received[0]["alert"]
    assert alert["traces_url"].startswith("https://hoptrace.example.com/traces?function=payments&status=error")
    assert open_state_store(store).history()[0].delivery == {"webhook": "ok"}


def test_any_event_starts_an_evaluation(store: Store, lambda_env: None, lambda_context: object) -> None:
    result = evaluator_function.handler(load_event("sqs"), lambda_context)
    assert result["evaluated"] == 0 and result["transitions"] == []


def test_a_missing_store_fails_with_what_to_set(monkeypatch: pytest.MonkeyPatch, lambda_context: object) -> None:
    monkeypatch.delenv("HOPTRACE_STORE", raising=False)
    monkeypatch.setattr(evaluator_function, "_RUNTIME", None)
    with pytest.raises(RuntimeError, match="HOPTRACE_STORE is not set"):
        evaluator_function.handler({}, lambda_context)


def test_the_evaluator_imports_only_the_stdlib_boto3_and_the_store(tmp_path: Path) -> None:
    # Lambda has the stdlib and boto3; everything else would have to be packaged with the function.
    script = (
        "import json, sys, os\n"
        f"os.environ.update(HOPTRACE_STORE='sqlite:///{tmp_path}/spans.db', HOPTRACE_ALERT_RULES={RULES_TOML!r},"
        " HOPTRACE_ALERT_TOPIC_ARN='')\n"
        "from hoptrace_alerts import handler\n"
        "import hoptrace_alerts.states.dynamodb, hoptrace_alerts.notify.sns\n"
        "handler.handler({}, None)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert {m for m in imported - ALLOWED if not m.startswith("__editable__")} == set(), imported
