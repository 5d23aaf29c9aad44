"""The local JWT authorizer's signature check: a token whose alg does not fit the issuer's key is refused (401),
never an exception out of `verify_jwt` (which the API service would answer with a 500)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from hoptrace_localcloud.apiauth import JwtError, verify_jwt

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(alg: str) -> str:
    signing = f"{_b64(json.dumps({'alg': alg}).encode())}.{_b64(json.dumps({'sub': 'user-7'}).encode())}"
    if alg == "RS256":
        signature = RSA_KEY.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = utils.decode_dss_signature(EC_KEY.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing}.{_b64(signature)}"


@pytest.mark.parametrize(("alg", "key"), [("RS256", RSA_KEY), ("ES256", EC_KEY)])
def test_a_token_signed_with_the_issuers_key_is_accepted(alg: str, key: rsa.RSAPrivateKey) -> None:
    assert verify_jwt(_token(alg), _pem(key)) == {"sub": "user-7"}


@pytest.mark.parametrize(("alg", "key", "message"), [
    ("RS256", EC_KEY, "alg RS256 needs an RSA key; the issuer's is EC"),
    ("ES256", RSA_KEY, "alg ES256 needs an EC key; the issuer's is RSA"),
])
def test_an_alg_that_does_not_fit_the_issuers_key_is_refused(alg: str, key: rsa.RSAPrivateKey, message: str) -> None:
    with pytest.raises(JwtError, match=message):
        verify_jwt(_token(alg), _pem(key))
