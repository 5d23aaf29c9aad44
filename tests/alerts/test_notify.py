"""Notifications: what they say and link to, the webhook's retries and timeout, SNS delivery to an SQS queue."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hoptrace_alerts import links
from hoptrace_alerts.config import load
from hoptrace_alerts.finding import Finding
from hoptrace_alerts.incidents import Transition
from hoptrace_alerts.notify import channels, deliver
from hoptrace_alerts.notify.message import Notification
from hoptrace_alerts.notify.sns import SnsChannel
from hoptrace_alerts.notify.webhook import WebhookChannel, WebhookError
from tests.alerts.receivers import Receiver, serving
from tests.alerts.traffic import minute

DASHBOARD = "http://dash.local:8501"
FINDING = Finding(rule="error_spike", subject="demo-payments", breached=True,
                  summary="error rate 45.0% (18 of 40 invocations in the last 5 min) vs baseline 3.0% (6 of 200)",
                  current=0.45, baseline=0.03, threshold=0.08, unit="ratio", window_s=300, function="demo-payments",
                  counts={"invocations": 40}, traces_filter={"status": "error"},
                  examples=("a" * 32, "b" * 32))
FIRED = Transition(rule="error_spike", subject="demo-payments", time_ns=minute(7) + 123, from_state="ok",
                   to_state="firing", notify=True, reason="opened", incident_ns=minute(7), finding=FINDING)


def test_a_notification_names_function_rule_figures_and_links_to_the_traces() -> None:
    note = Notification.of(FIRED, DASHBOARD)
    assert note.title == "[FIRING] Error-rate spike on demo-payments"
    assert "45.0%" in note.text and "baseline 3.0%" in note.text
    url = urlsplit(note.traces_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{DASHBOARD}/traces"
    assert parse_qs(url.query) == {"function": ["demo-payments"], "status": ["error"], "range": ["15m"],
                                   "until": [links.iso(FIRED.time_ns)], "trace": ["a" * 32]}
    assert note.example_urls == (f"{DASHBOARD}/traces?trace={'a' * 32}", f"{DASHBOARD}/traces?trace={'b' * 32}")
    # The link's time range ends after the evaluation, so the window's last spans are inside it.
    assert links.iso(FIRED.time_ns) > links.iso(minute(7) - 1)


def test_the_webhook_payload_is_slack_compatible_and_machine_readable() -> None:
    payload = Notification.of(FIRED, DASHBOARD).slack()
    assert payload["text"].startswith("[FIRING] Error-rate spike on demo-payments")
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "context"]
    assert payload["blocks"][0]["text"]["type"] == "plain_text"
    assert f"<{DASHBOARD}/traces?" in payload["blocks"][2]["elements"][0]["text"]
    alert = payload["alert"]
    assert (alert["status"], alert["rule"], alert["function"], alert["current"], alert["baseline"]) == (
        "FIRING", "error_spike", "demo-payments", 0.45, 0.03)
    json.dumps(payload)  # serialisable as it stands


def test_slack_shows_logged_text_as_written_never_as_mentions_or_links() -> None:
    # GIVEN a DLQ alert whose last error (text a function logged) holds Slack's control syntax
    error = "card declined <!channel> see <https://evil.example|your invoice> & pay"
    summary = f"3 messages arrived in payments-dlq in the last 5 min; last error: {error}"
    finding = dataclasses.replace(FINDING, rule="dlq_arrivals", subject="payments-dlq", summary=summary)
    transition = dataclasses.replace(FIRED, rule="dlq_arrivals", subject="payments-dlq", finding=finding)
    payload = Notification.of(transition, DASHBOARD).slack()
    # THEN neither the notification line nor the message block carries a live mention or link
    for text in (payload["text"], payload["blocks"][1]["text"]["text"]):
        assert "<!channel>" not in text and "<https://evil" not in text
        assert "&lt;!channel&gt; see &lt;https://evil.example|your invoice&gt; &amp; pay" in text
    # AND the links hoptrace makes are still links; the machine-readable copy keeps the text as it was
    assert payload["blocks"][2]["elements"][0]["text"].startswith(f"<{DASHBOARD}/traces?")
    assert payload["alert"]["summary"].endswith(error)


def test_dashboard_presets_match_the_dashboard() -> None:
    context = pytest.importorskip("hoptrace_dashboard.context")
    assert links.PRESETS == context.PRESETS
    assert context.parse_until(links.iso(FIRED.time_ns)) == -(-FIRED.time_ns // 1_000_000_000) * 1_000_000_000


def test_webhook_delivers_once_to_a_healthy_receiver() -> None:
    with serving(Receiver()) as receiver:
        WebhookChannel(receiver.url).send(Notification.of(FIRED, DASHBOARD))
    assert receiver.attempts == 1 and receiver.received[0]["alert"]["subject"] == "demo-payments"


def test_webhook_retries_a_failing_receiver_with_backoff_until_it_succeeds() -> None:
    waits: list[float] = []
    with serving(Receiver(statuses=[503, 429, 200])) as receiver:
        WebhookChannel(receiver.url, attempts=4, backoff_s=0.5, sleep=waits.append).send(
            Notification.of(FIRED, DASHBOARD))
    assert receiver.attempts == 3 and len(receiver.received) == 1
    assert waits == [0.5, 1.0]  # doubled each time


def test_webhook_gives_up_after_its_attempts_and_says_why() -> None:
    with serving(Receiver(statuses=[500, 500, 500])) as receiver, pytest.raises(WebhookError, match="HTTP 500"):
        WebhookChannel(receiver.url, attempts=3, backoff_s=0, sleep=lambda s: None).send(
            Notification.of(FIRED, DASHBOARD))
    assert receiver.attempts == 3


def test_webhook_does_not_retry_a_refusal() -> None:
    with serving(Receiver(statuses=[404])) as receiver, pytest.raises(WebhookError, match=r"refused.*HTTP 404"):
        WebhookChannel(receiver.url, attempts=3, sleep=lambda s: None).send(Notification.of(FIRED, DASHBOARD))
    assert receiver.attempts == 1


def test_webhook_times_out_a_slow_receiver_and_retries() -> None:
    with serving(Receiver(delay_s=0.5)) as receiver, pytest.raises(WebhookError, match="timed out"):
        WebhookChannel(receiver.url, timeout_s=0.1, attempts=2, backoff_s=0, sleep=lambda s: None).send(
            Notification.of(FIRED, DASHBOARD))
    assert receiver.attempts == 2


def test_one_failing_channel_does_not_silence_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    config = load("[notify]\nwebhook_url = \"http://127.0.0.1:9/nothing-listens\"\nwebhook_attempts = 1\n",
                  environ={})
    delivery = deliver(FIRED, DASHBOARD, channels(config))
    assert delivery["stdout"] == "ok" and delivery["webhook"].startswith("WebhookError")
    assert "[FIRING] Error-rate spike on demo-payments" in capsys.readouterr().out


def test_sns_delivers_to_an_sqs_queue_subscribed_to_the_topic(aws: Any) -> None:
    # GIVEN a topic with an SQS queue subscribed to it (moto's server)
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"alerts-{uuid.uuid4().hex[:6]}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    # WHEN the SNS channel publishes a notification
    SnsChannel(topic, sns).send(Notification.of(FIRED, DASHBOARD))
    # THEN the queue receives the JSON payload inside SNS's envelope
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2).get("Messages", [])
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == "[FIRING] Error-rate spike on demo-payments"
    alert = json.loads(envelope["Message"])
    assert (alert["status"], alert["rule"], alert["function"]) == ("FIRING", "error_spike", "demo-payments")
    assert alert["traces_url"].startswith(f"{DASHBOARD}/traces?function=demo-payments")
    assert envelope["MessageAttributes"]["rule"]["Value"] == "error_spike"
