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
import urllib.error
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


# ---------------------------------------------------------------------------------------------------------------
# The corpus: one secret per placement where a name/value pair can travel, with the default settings (payload
# capture off) — query parameters, free text in exception messages and status messages, span and event
# attributes of the user's own OpenTelemetry spans, URL userinfo, a log line — and, with capture on, headers and
# body keys of every family. Every byte hoptrace writes is searched: the store file and its WAL, the lines
# hoptrace writes in every function's log (the layer's and the collector's), and what was sent over OTLP (the
# layer's own export and the collector's forward).
# ---------------------------------------------------------------------------------------------------------------

CORPUS_QUERY = ("key", "access_token", "client_secret", "X-Amz-Signature", "sig", "password", "apiKey",
                "refresh_token", "session", "x-auth-token")
CORPUS_TEXT = ("attr_db_password", "attr_api_key", "attr_session_id", "attr_cookie_text", "attr_header_api_key",
               "attr_bearer", "attr_redis_userinfo", "attr_jwt", "attr_client_secret", "attr_stripe_secret_key",
               "attr_list_token", "attr_aws_secret", "attr_connection_string", "event_password_text", "event_api_key",
               "event_credential", "recorded_exception_userinfo",
               "status_refresh_token", "log_token", "raise_password", "raise_token_colon", "raise_dict_secret",
               "raise_userinfo", "raise_json_access_token", "raise_pem")
CORPUS_CAPTURED = ("hdr_x_auth_token", "hdr_x_amz_security_token", "hdr_x_csrf_token", "hdr_proxy_authorization",
                   "body_client_secret", "body_access_token", "body_refresh_token", "body_private_key",
                   "body_db_password", "body_session_id", "body_api_key_caps", "body_credentials_user",
                   "body_deep_auth", "body_json_in_string", "resp_set_cookie", "resp_access_token")
CORPUS = {name: f"CORPUS{index:02d}X{name.replace('_', '').replace('-', '')[:10].upper()}Q9"
          for index, name in enumerate((*CORPUS_QUERY, *CORPUS_TEXT, *CORPUS_CAPTURED))}
LEAKY = f"""
import json, logging
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
S = {CORPUS!r}

def handler(event, context):
    tracer = trace.get_tracer("shop")
    with tracer.start_as_current_span("charge", attributes={{
            "db.password": S["attr_db_password"], "app.api_key": S["attr_api_key"],
            "user.session.id": S["attr_session_id"], "note": "sent cookie=" + S["attr_cookie_text"],
            "http.request.header.x-api-key": S["attr_header_api_key"],
            "upstream.auth": "Bearer " + S["attr_bearer"],
            "cache.url": "redis://:" + S["attr_redis_userinfo"] + "@cache:6379/0",
            "jwt": S["attr_jwt"], "oauth.client.secret": S["attr_client_secret"],
            "stripe_secret_key": S["attr_stripe_secret_key"],
            "retries": ["token=" + S["attr_list_token"], "ok"], "AWS_SECRET_ACCESS_KEY": S["attr_aws_secret"],
            "db.connection_string": "Server=db;User Id=app;Password=" + S["attr_connection_string"] + ";"}}) as span:
        span.add_event("login", {{"note": "password=" + S["event_password_text"], "api-key": S["event_api_key"],
                                  "credential": S["event_credential"]}})
        try:
            raise ConnectionError("cannot reach postgres://app:" + S["recorded_exception_userinfo"] + "@db:5432/shop")
        except ConnectionError as error:
            span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, "refresh failed refresh_token=" + S["status_refresh_token"]))
    logging.getLogger().warning("retrying with token=%s", S["log_token"])
    if (event.get("queryStringParameters") or {{}}).get("fail"):
        raise ValueError("login failed password=" + S["raise_password"] + " token: " + S["raise_token_colon"]
                         + " " + repr({{"client_secret": S["raise_dict_secret"]}})
                         + " via https://svc:" + S["raise_userinfo"] + "@auth.internal/login "
                         + json.dumps({{"access_token": S["raise_json_access_token"]}})
                         + " -----BEGIN PRIVATE KEY-----" + S["raise_pem"] + "-----END PRIVATE KEY-----")
    return {{"statusCode": 200, "headers": {{"Set-Cookie": "sid=" + S["resp_set_cookie"] + "; HttpOnly"}},
             "body": json.dumps({{"access_token": S["resp_access_token"]}})}}
"""


class Sink:
    """An OTLP/HTTP endpoint on 127.0.0.1 that keeps every body it is sent."""

    def __init__(self) -> None:
        import http.server
        import threading

        bodies: list[bytes] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.bodies = bodies
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class Written:
    store: bytes
    ours: bytes  # the lines hoptrace wrote in every log: span lines, the layer's notes, the collector's lines
    otlp: bytes

    def leaks(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, secret in CORPUS.items():
            for where, blob in (("store", self.store), ("logs", self.ours), ("otlp", self.otlp)):
                if any(form in blob for form in _forms(secret)):
                    found.setdefault(name, []).append(where)
        return found


def _ours(line: str) -> bool:
    return line.startswith(("HOPTRACE", "hoptrace")) or "hoptrace-collector" in line[:80]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    root = tmp_path_factory.mktemp("corpus")
    db = root / "spans.db"
    sink = Sink()
    query = "&".join(f"{name}={CORPUS[name]}" for name in CORPUS_QUERY)
    resources: dict[str, Any] = {
        "Leaky": traced_function("leaky", "leaky/", "app.handler", {"HOPTRACE_OTLP_ENDPOINT": sink.url}, Events={
            "Get": {"Type": "HttpApi", "Properties": {"Path": "/leaky", "Method": "get"}}}),
        "Captured": traced_function("captured", "leaky/", "app.handler", {"HOPTRACE_CAPTURE_PAYLOAD": "true"}, Events={
            "Post": {"Type": "HttpApi", "Properties": {"Path": "/captured", "Method": "post"}}}),
        "LeakyLogs": log_group("leaky"), "CapturedLogs": log_group("captured"),
        "Collector": collector_function("collector", f"sqlite:///{db}", ["LeakyLogs", "CapturedLogs"],
                                        env={"HOPTRACE_FORWARD_OTLP": sink.url}),
    }
    template = write_app(root, resources, {"leaky/app.py": LEAKY})
    body = json.dumps({"client_secret": CORPUS["body_client_secret"], "access_token": CORPUS["body_access_token"],
                       "refresh_token": CORPUS["body_refresh_token"], "privateKey": CORPUS["body_private_key"],
                       "db_password": CORPUS["body_db_password"], "sessionId": CORPUS["body_session_id"],
                       "API-KEY": CORPUS["body_api_key_caps"],
                       "credentials": {"user": CORPUS["body_credentials_user"]},
                       "items": [{"meta": [{"auth": CORPUS["body_deep_auth"]}]}],
                       "note": json.dumps({"apiKey": CORPUS["body_json_in_string"]})}).encode()
    try:
        with LocalCloud(template, log_batch_interval=0.3, sqs_wait_seconds=1, idle_timeout=120) as cloud:
            # GIVEN a secret in every placement / WHEN the traced functions run (once failing, once capturing)
            for path in (f"/leaky?{query}", f"/leaky?fail=1&{query}"):
                try:
                    urllib.request.urlopen(f"{cloud.api_url}{path}", timeout=30).close()
                except urllib.error.HTTPError as error:
                    assert error.code == 500 and "fail" in path
            request = urllib.request.Request(f"{cloud.api_url}/captured?{query}", data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Auth-Token": CORPUS["hdr_x_auth_token"],
                "X-Amz-Security-Token": CORPUS["hdr_x_amz_security_token"],
                "X-CSRF-Token": CORPUS["hdr_x_csrf_token"],
                "Proxy-Authorization": "Basic " + CORPUS["hdr_proxy_authorization"]})
            urllib.request.urlopen(request, timeout=30).close()
            # AND the collector has stored (and forwarded) all three invocations
            wait_for(lambda: _count(db, "leaky") >= 2 and _count(db, "captured") >= 1, 60, "every invocation stored")
            wait_for(lambda: len(sink.bodies) >= 3, 30, "the layer's and the collector's OTLP posts")
            store = b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())
            ours = "\n".join(line for name in ("Leaky", "Captured", "Collector") for line in cloud.log_lines(name)
                             if _ours(line)).encode()
            yield Written(store, ours, b"\n".join(sink.bodies))
    finally:
        sink.close()


def _count(db: Path, function: str) -> int:
    import sqlite3

    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute("SELECT COUNT(DISTINCT request_id) FROM spans WHERE function = ?",
                            (function,)).fetchone()[0]


def test_the_corpus_has_at_least_fifty_placements() -> None:
    assert len(CORPUS) >= 50 and len(set(CORPUS.values())) == len(CORPUS)


def test_no_secret_of_the_corpus_is_in_any_byte_hoptrace_wrote(written: Written) -> None:
    # THEN the places were really written (a leak would have been seen) …
    assert b"[REDACTED]" in written.store and b"[REDACTED]" in written.otlp and b"HOPTRACE " in written.ours
    assert b"cannot reach postgres://app:" in written.store  # the message survived, only its secret went
    # … and not one secret, as is or base64-encoded, is in the store, our log lines or the OTLP bodies
    assert not written.leaks()
