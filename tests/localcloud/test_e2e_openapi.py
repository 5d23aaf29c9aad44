"""APIs defined in OpenAPI, end to end: an HTTP API body included from a local file (`Fn::Transform:
AWS::Include`) with a JWT authorizer (tokens signed here with locally configured keys) and an `SQS-SendMessage`
integration; a REST API with a Lambda TOKEN authorizer, a form body passed as text and the REST `aws` SQS
integration."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hoptrace_localcloud.cloud import LocalCloud

from .conftest import APPS, FAST, http, receive_one

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


@pytest.fixture(scope="module")
def cloud():
    with LocalCloud(APPS / "openapi" / "template.yaml", FAST, jwt_keys={ISSUER: PUBLIC_PEM}) as running:
        yield running


def test_every_route_of_the_definitions_is_served_without_warnings(cloud):
    assert cloud.warnings == []
    assert {(r.method, r.path) for r in cloud._api.routes} == {
        ("GET", "/me"), ("POST", "/enqueue"), ("GET", "/secure"), ("POST", "/form"), ("POST", "/queue")}


def test_jwt_authorizer_checks_signature_claims_and_scopes(cloud):
    url = f"{cloud.api_url}/me"
    status, _, body = http(url, headers={"Authorization": f"Bearer {token(claims())}"})
    assert status == 200
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


def test_rest_token_authorizer_allows_denies_and_rejects(cloud):
    url = f"{cloud.api_url}/secure"
    status, _, body = http(url, headers={"Authorization": "allow"})
    assert status == 200
    authorizer = json.loads(body)["authorizer"]
    assert authorizer["principalId"] == "user-1" and authorizer["tier"] == "gold"
    status, _, body = http(url, headers={"Authorization": "deny"})
    assert status == 403 and "explicit deny" in json.loads(body)["Message"]
    assert http(url, headers={"Authorization": "bad"})[0] == 401
    assert http(url)[0] == 401


def test_rest_form_body_is_text_and_the_aws_sqs_integration_sends(cloud):
    form = urllib.parse.urlencode({"a": "1", "b": "é"})
    request = urllib.request.Request(f"{cloud.api_url}/form", data=form.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=30) as response:
        echoed = json.loads(response.read())
    assert echoed["isBase64Encoded"] is False and echoed["body"] == form
    assert http(f"{cloud.api_url}/queue", "POST", {"text": "a&b=c"})[0] == 200
    assert json.loads(receive_one(cloud, "Inbox")["Body"]) == {"text": "a&b=c"}
