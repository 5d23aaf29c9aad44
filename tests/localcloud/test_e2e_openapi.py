"""APIs defined in OpenAPI, end to end: an HTTP API body included from a local file (`Fn::Transform:
AWS::Include`) with a JWT authorizer (tokens signed here with locally configured keys) and an `SQS-SendMessage`
integration; a REST API with a Lambda TOKEN authorizer, a form body passed as text and the REST `aws` SQS
integration. Each function behind a route is traced: its invocation span, in the client's trace (the
request's `traceparent`), reaches the collector's store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hoptrace import semconv
from hoptrace.triggers.apigateway_authorizer import NAME as AUTHORIZER_TRIGGER

from .conftest import http, receive_one, traced_fixtures
from .traced import TracedStore, invocation_of

pytestmark = pytest.mark.e2e
ISSUER = "https://issuer.local"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict, alg: str = "RS256", key: RSA_KEY.__class__ | str = RSA_KEY) -> str:
    signing = f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    if alg == "HS256":
        signature = hmac.new(str(key).encode(), signing.encode(), hashlib.sha256).digest()
    else:
        signature = RSA_KEY.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing}.{_b64(signature)}"


def claims(**extra) -> dict:
    return {"iss": ISSUER, "aud": "shop", "sub": "user-7", "exp": int(time.time()) + 300,
            "scope": "orders/read profile", **extra}


traced, cloud = traced_fixtures("openapi", jwt_keys={ISSUER: PUBLIC_PEM})


def traceparent() -> tuple[str, str, str]:
    """(header, trace id, parent span id) of a client request with its own trace."""
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def assert_traced(store: TracedStore, function: str, trigger: str, trace_id: str, parent_id: str) -> None:
    """The function's invocation span is stored in the client's trace, a child of the client's span."""
    spans = store.trace_with(trace_id, lambda spans: bool(invocation_of(spans, function, trigger)),
                             f"{function}'s {trigger} invocation in the client's trace")
    [invocation] = invocation_of(spans, function, trigger)
    assert invocation.parent_id == parent_id


def test_every_route_of_the_definitions_is_served_without_warnings(cloud):
    assert cloud.warnings == []
    assert {(r.method, r.path) for r in cloud._api.routes} == {
        ("GET", "/me"), ("POST", "/enqueue"), ("GET", "/secure"), ("POST", "/form"), ("POST", "/queue")}


def test_jwt_authorizer_checks_signature_claims_and_scopes(traced):
    cloud, store = traced
    url = f"{cloud.api_url}/me"
    header, trace_id, parent_id = traceparent()
    status, _, body = http(url, headers={"Authorization": f"Bearer {token(claims())}", "traceparent": header})
    assert status == 200
    assert_traced(store, cloud.function("Echo").spec.name, semconv.TRIGGER_APIGATEWAY_HTTP, trace_id, parent_id)
    jwt = json.loads(body)["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "user-7" and jwt["scopes"] == ["orders/read"]
    assert http(url)[0] == 401  # no token
    assert http(url, headers={"Authorization": "Bearer " + token(claims(exp=int(time.time()) - 5))})[0] == 401
    assert http(url, headers={"Authorization": "Bearer " + token(claims(aud="other"))})[0] == 401
    assert http(url, headers={"Authorization": "Bearer " + token(claims(iss="https://evil"))})[0] == 401
    assert http(url, headers={"Authorization": "Bearer " + token(claims(), "HS256", PUBLIC_PEM)})[0] == 401
    assert http(url, headers={"Authorization": "Bearer not.a.jwt"})[0] == 401
    none = _b64(json.dumps({"alg": "none"}).encode()) + "." + _b64(json.dumps(claims()).encode()) + "."
    assert http(url, headers={"Authorization": "Bearer " + none})[0] == 401
    assert http(url, headers={"Authorization": "Bearer " + token(claims(scope="profile"))})[0] == 403


def test_http_api_sqs_send_message_integration(cloud):
    status, _, body = http(f"{cloud.api_url}/enqueue", "POST", {"order": 1})
    assert status == 200
    message_id = json.loads(body)["SendMessageResponse"]["SendMessageResult"]["MessageId"]
    message = receive_one(cloud, "Inbox")
    assert message["MessageId"] == message_id and json.loads(message["Body"]) == {"order": 1}


def test_rest_token_authorizer_allows_denies_and_rejects(traced):
    cloud, store = traced
    url = f"{cloud.api_url}/secure"
    header, trace_id, parent_id = traceparent()
    status, _, body = http(url, headers={"Authorization": "allow", "traceparent": header})
    assert status == 200
    assert_traced(store, cloud.function("Echo").spec.name, semconv.TRIGGER_APIGATEWAY, trace_id, parent_id)
    # the TOKEN authorizer's own invocation is traced too, as an authorizer
    [authorize, *_] = store.invocations("Authorizer", AUTHORIZER_TRIGGER)
    assert (authorize.name, authorize.attributes[semconv.AUTHORIZER_TYPE]) == ("authorize GET /secure", "TOKEN")
    authorizer = json.loads(body)["authorizer"]
    assert authorizer["principalId"] == "user-1" and authorizer["tier"] == "gold"
    status, _, body = http(url, headers={"Authorization": "deny"})
    assert status == 403 and "explicit deny" in json.loads(body)["Message"]
    assert http(url, headers={"Authorization": "bad"})[0] == 401
    assert http(url)[0] == 401


def test_rest_form_body_is_text_and_the_aws_sqs_integration_sends(traced):
    cloud, store = traced
    form = urllib.parse.urlencode({"a": "1", "b": "é"})
    header, trace_id, parent_id = traceparent()
    request = urllib.request.Request(f"{cloud.api_url}/form", data=form.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "traceparent": header})
    with urllib.request.urlopen(request, timeout=30) as response:
        echoed = json.loads(response.read())
    assert echoed["isBase64Encoded"] is False and echoed["body"] == form
    assert_traced(store, cloud.function("Echo").spec.name, semconv.TRIGGER_APIGATEWAY, trace_id, parent_id)
    assert http(f"{cloud.api_url}/queue", "POST", {"text": "a&b=c"})[0] == 200
    assert json.loads(receive_one(cloud, "Inbox")["Body"]) == {"text": "a&b=c"}
