"""Secrets never reach the store or the logs: headers, cookies, API keys in query strings, sensitive payload keys.

A traced app runs in the local cloud with payload capture on (`HOPTRACE_CAPTURE_PAYLOAD=true`, the
setting most likely to leak) and extra sensitive keys and headers configured. A client sends one
request carrying a secret in every usual place; the front function forwards credentials to a
backend over HTTP and puts sensitive keys into an SQS message for a worker, and answers with a token
in its own response. The real collector stores it all. Then the raw bytes of the SQLite file and its
WAL, and every log line of every function, are searched for each secret — as is, and base64-encoded
(API Gateway may carry bodies that way).
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hoptrace_localcloud.cloud import LocalCloud
from tests.reliability.cloudapps import collector_function, log_group, traced_function, wait_for, write_app

pytestmark = pytest.mark.e2e

SECRETS = {name: f"S3CR3T-{name.upper()}-7F3A9C" for name in (
    "authorization", "cookie", "x_api_key", "custom_header", "query_api_key", "query_token", "password", "card",
    "cvv", "nested_api_key", "forwarded_auth", "forwarded_query_key", "queued_card", "queued_password",
    "response_token")}
CAPTURE = {"HOPTRACE_CAPTURE_PAYLOAD": "true", "HOPTRACE_REDACT_KEYS": "card_number,cvv",
           "HOPTRACE_REDACT_HEADERS": "x-session-secret"}
FRONT = f"""
import json, os, urllib.request, boto3
sqs = boto3.client("sqs")
SECRETS = {SECRETS!r}

def handler(event, context):
    request = urllib.request.Request(
        os.environ["API"] + "/internal?api_key=" + SECRETS["forwarded_query_key"] + "&page=2",
        headers={{"Authorization": "Bearer " + SECRETS["forwarded_auth"]}})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    sqs.send_message(QueueUrl=os.environ["QUEUE"], MessageBody=json.dumps(
        {{"order": 7, "card_number": SECRETS["queued_card"], "customer": {{"password": SECRETS["queued_password"]}}}}))
    return {{"statusCode": 200, "body": json.dumps({{"ok": True, "token": SECRETS["response_token"]}})}}
"""
BACKEND = """
def handler(event, context):
    return {"statusCode": 200, "body": "{}"}
"""
WORKER = """
def handler(event, context):
    return {"batchItemFailures": []}
"""


# Found by this test and fixed in the layer: with payload capture on, an HTTP API (v2) event's
# `rawQueryString` and `cookies` went into `hoptrace.event.payload` unredacted.
ONCE_LEAKED = frozenset({"cookie", "query_api_key", "query_token", "forwarded_query_key"})


@dataclass(frozen=True)
class Searched:
    store: bytes  # the SQLite file and its WAL, raw
    logs: bytes  # every line of every function's log, the collector's included
    defaults_logs: bytes  # the log of the function traced with the default settings (no payload capture)

    def leaks(self, names: frozenset[str] | set[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name in sorted(names):
            for where, blob in (("store", self.store), ("logs", self.logs), ("defaults", self.defaults_logs)):
                if any(form in blob for form in _forms(SECRETS[name])):
                    found.setdefault(name, []).append(where)
        return found


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searched]:
    """Runs the app once (one request with capture on, one with the defaults) and reads back store and logs."""
    root = tmp_path_factory.mktemp("secrets")
    db = root / "spans.db"
    api = {"Fn::GetAtt": ["ServerlessHttpApi", "ApiEndpoint"]}
    resources: dict[str, Any] = {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Front": traced_function("front", "front/", "app.handler", {**CAPTURE, "API": api, "QUEUE": {"Ref": "Queue"}},
                                 Events={"Checkout": {"Type": "HttpApi",
                                                      "Properties": {"Path": "/checkout", "Method": "post"}}}),
        "Backend": traced_function("backend", "backend/", "app.handler", CAPTURE, Events={
            "Internal": {"Type": "HttpApi", "Properties": {"Path": "/internal", "Method": "get"}}}),
        "Worker": traced_function("worker", "worker/", "app.handler", CAPTURE, Events={
            "Queue": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}}}),
        "Plain": traced_function("plain", "backend/", "app.handler", Events={  # the defaults: no payload capture
            "Plain": {"Type": "HttpApi", "Properties": {"Path": "/plain", "Method": "post"}}}),
    }
    functions = ("Front", "Backend", "Worker", "Plain")
    for name in functions:
        resources[f"{name}Logs"] = log_group(name.lower())
    resources["Collector"] = collector_function("collector", f"sqlite:///{db}", [f"{name}Logs" for name in functions])
    template = write_app(root, resources, {"front/app.py": FRONT, "backend/app.py": BACKEND, "worker/app.py": WORKER})
    with LocalCloud(template, log_batch_interval=0.3, sqs_wait_seconds=1, idle_timeout=120) as cloud:
        # GIVEN requests with a secret in every usual place / WHEN they go through the traced app
        for path in ("/checkout", "/plain"):
            with urllib.request.urlopen(_request(cloud.api_url, path), timeout=30) as response:
                assert response.status == 200
        # AND the collector has stored every function's spans
        wait_for(lambda: all(_stored_invocations(db, name.lower()) for name in functions), 30,
                 "every function's spans stored")
        cloud.logs.wait_for(cloud.function("Collector").spec.log_group, lambda e: e.message.startswith("REPORT"), 10)
        store = b"".join(path.read_bytes() for path in (db, db.with_name(db.name + "-wal")) if path.exists())
        logs = "\n".join(line for name in (*functions, "Collector") for line in cloud.log_lines(name)).encode()
        yield Searched(store, logs, "\n".join(cloud.log_lines("Plain")).encode())


def _request(api_url: str, path: str) -> urllib.request.Request:
    body = json.dumps({"item": "book", "password": SECRETS["password"], "card_number": SECRETS["card"],
                       "cvv": SECRETS["cvv"], "nested": {"api_key": SECRETS["nested_api_key"]}}).encode()
    return urllib.request.Request(
        f"{api_url}{path}?api_key={SECRETS['query_api_key']}&token={SECRETS['query_token']}&page=1",
        data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {SECRETS['authorization']}",
            "Cookie": f"session={SECRETS['cookie']}; theme=dark", "X-Api-Key": SECRETS["x_api_key"],
            "X-Session-Secret": SECRETS["custom_header"]})


def test_no_secret_reaches_the_store_or_any_log(searched: Searched) -> None:
    # THEN the payloads and headers were captured and redacted (so a leak would have been seen) …
    assert b'"http.request.header.authorization":"[REDACTED]"' in searched.store
    assert b"hoptrace.event.payload" in searched.store and b"hoptrace.response.payload" in searched.store
    # … and no secret is in the store's bytes or in any log line (the default-settings function's included)
    assert b"HOPTRACE " in searched.defaults_logs
    assert not searched.leaks(set(SECRETS))


def test_query_strings_and_cookies_of_http_api_events_are_redacted_in_captured_payloads(searched: Searched) -> None:
    assert not searched.leaks(ONCE_LEAKED)


def _forms(secret: str) -> list[bytes]:
    """The secret as bytes, and the stable middle of its base64 encoding at each of the three alignments."""
    forms = [secret.encode()]
    for pad in range(3):
        encoded = base64.b64encode(b"x" * pad + secret.encode())
        forms.append(encoded[4:-4])
    return forms


def _stored_invocations(db: Path, function: str) -> bool:
    import sqlite3

    if not db.exists():
        return False
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute("SELECT COUNT(*) FROM spans WHERE function = ? AND invocation = 1",
                            (function,)).fetchone()[0] > 0
