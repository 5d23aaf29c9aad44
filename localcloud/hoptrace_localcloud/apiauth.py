"""API Gateway authorizers from an OpenAPI body's security schemes: Lambda TOKEN and REQUEST authorizers (REST),
Lambda REQUEST authorizers with simple or IAM-policy responses (HTTP APIs) and JWT authorizers (HTTP APIs, with
keys configured locally in `LocalCloudConfig.jwt_keys`, issuer -> HS256 secret or RS256/ES256 public key PEM).

Answers as API Gateway does: 401 `Unauthorized` for a missing or invalid identity, 403 for a deny.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .events import apigateway
from .events.apigateway import HttpRequest, HttpResponse
from .openapi import FUNCTION_URI


def _json_response(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(body).encode())


UNAUTHORIZED = _json_response(401, {"message": "Unauthorized"})
FORBIDDEN_HTTP = _json_response(403, {"message": "Forbidden"})
DENIED_REST = _json_response(403, {"Message": "User is not authorized to access this resource with an explicit "
                                              "deny"})
NOT_ALLOWED_REST = _json_response(403, {"Message": "User is not authorized to access this resource"})
AUTHORIZER_FAILED = _json_response(500, {"message": None})


@dataclass
class Decision:
    """Either a response to send instead of calling the integration, or the `requestContext.authorizer`."""

    response: HttpResponse | None = None
    context: dict[str, Any] | None = None


Authorize = Callable[[HttpRequest, dict[str, str], dict[str, Any]], Decision]  # request, path params, route info


def authorizer_function_arn(spec: dict[str, Any]) -> str | None:
    match = FUNCTION_URI.search(str(spec.get("authorizerUri", "")))
    return match.group(1) if match else None


def _identity(request: HttpRequest, params: dict[str, str], source: str) -> str | None:
    """One identity source (`method.request.header.X`, `$request.header.X`, `...querystring.q`, `...path.p`)."""
    source = source.strip()
    for prefix in ("method.request.", "$request."):
        if source.startswith(prefix):
            kind, _, name = source[len(prefix):].partition(".")
            if kind == "header":
                return request.header(name)
            if kind == "querystring":
                return next((v for k, v in request.query if k == name), None)
            if kind == "path":
                return params.get(name)
    return None


def _sources(spec: dict[str, Any], scheme: dict[str, Any], default: str) -> list[str]:
    value = spec.get("identitySource") or (f"method.request.header.{scheme['name']}" if scheme.get("in") == "header"
                                          and scheme.get("name") else default)
    return [part for part in (value if isinstance(value, list) else str(value).split(",")) if part.strip()]


def _stringify(context: Any) -> dict[str, Any]:
    return {str(k): v if isinstance(v, str | int | float | bool) else json.dumps(v)
            for k, v in (context or {}).items()} if isinstance(context, dict) else {}


def _policy_allows(policy: Any, resource: str) -> bool | None:
    """True for an Allow covering `resource`, False for an explicit Deny (which wins), None for neither."""
    statements = (policy or {}).get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    allowed = None
    for statement in statements or []:
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(resource, str(pattern)) for pattern in resources):
            if str(statement.get("Effect", "")).lower() == "deny":
                return False
            if str(statement.get("Effect", "")).lower() == "allow":
                allowed = True
    return allowed


class LambdaAuthorizer:
    """Invokes the authorizer function (no result caching locally) and maps its answer."""

    def __init__(self, kind: str, spec: dict[str, Any], scheme: dict[str, Any], invoke: Callable[[Any], Any],
                 account_id: str, region: str) -> None:
        self._type = str(spec.get("type", "token")).lower()
        self._kind = kind  # "rest" or "http"
        self._spec = spec
        self._invoke = invoke
        self._account = account_id
        self._region = region
        default = "$request.header.Authorization" if kind == "http" else "method.request.header.Authorization"
        self._sources = _sources(spec, scheme, default)
        self._validation = spec.get("identityValidationExpression")
        self._simple = bool(spec.get("enableSimpleResponses"))
        self._format = str(spec.get("authorizerPayloadFormatVersion", "2.0" if kind == "http" else "1.0"))

    def __call__(self, request: HttpRequest, params: dict[str, str], route: dict[str, Any]) -> Decision:
        values = [_identity(request, params, source) for source in self._sources]
        if any(value is None or value == "" for value in values):
            return Decision(UNAUTHORIZED)
        arn = (f"arn:aws:execute-api:{self._region}:{self._account}:{route['api_id']}/{route['stage']}/"
               f"{request.method}{request.path}")
        if self._kind == "rest" and self._type == "token":
            if self._validation and not re.fullmatch(str(self._validation), str(values[0])):
                return Decision(UNAUTHORIZED)
            event: dict[str, Any] = {"type": "TOKEN", "authorizationToken": values[0], "methodArn": arn}
        elif self._kind == "rest" or self._format == "1.0":
            event = apigateway.rest_event(request, route["path"], params, route["stage"], route["api_id"],
                                          self._account)
            event.update({"type": "REQUEST", "methodArn": arn})
        else:
            event = apigateway.http_api_event(request, route["route_key"], params, route["stage"], route["api_id"],
                                              self._account)
            event.update({"type": "REQUEST", "routeArn": arn, "identitySource": values})
            for key in ("body", "isBase64Encoded"):
                event.pop(key, None)
        invocation = self._invoke(event)
        if invocation.failed:
            message = str((invocation.error or {}).get("errorMessage", ""))
            return Decision(UNAUTHORIZED if message == "Unauthorized" else AUTHORIZER_FAILED)
        result = invocation.payload if isinstance(invocation.payload, dict) else {}
        if self._kind == "http" and self._simple:
            if result.get("isAuthorized") is not True:
                return Decision(FORBIDDEN_HTTP)
            return Decision(context={"lambda": _stringify(result.get("context"))})
        verdict = _policy_allows(result.get("policyDocument"), arn)
        if verdict is not True:
            if self._kind == "http":
                return Decision(FORBIDDEN_HTTP)
            return Decision(DENIED_REST if verdict is False else NOT_ALLOWED_REST)
        context = _stringify(result.get("context"))
        if self._kind == "http":
            return Decision(context={"lambda": context})
        return Decision(context={**context, "principalId": str(result.get("principalId", "")),
                                 "integrationLatency": 0})


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class JwtError(ValueError):
    pass


def verify_jwt(token: str, key: str) -> dict[str, Any]:
    """The claims of a compact JWS signed with HS256/384/512 (key = secret) or RS256/ES256 (key = PEM).
    `alg: none` and algorithms that do not fit the key are refused."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, json.JSONDecodeError) as exc:
        raise JwtError(f"not a JWT ({exc})") from None
    signed = f"{header_b64}.{payload_b64}".encode()
    alg = str(header.get("alg", ""))
    # The key decides the algorithm family, never the token: a public key used as an HMAC secret is the
    # classic algorithm-confusion forgery.
    public_key = key.lstrip().startswith("-----BEGIN")
    if alg.startswith("HS") == public_key:
        raise JwtError(f"alg {alg!r} does not fit the issuer's key")
    if alg in ("HS256", "HS384", "HS512"):
        digest = getattr(hashlib, "sha" + alg[2:])
        if not hmac.compare_digest(hmac.new(key.encode(), signed, digest).digest(), signature):
            raise JwtError("bad signature")
    elif alg in ("RS256", "ES256"):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

        public = serialization.load_pem_public_key(key.encode())
        try:
            if alg == "RS256":
                if not isinstance(public, rsa.RSAPublicKey):
                    raise JwtError(f"alg RS256 needs an RSA key; the issuer's is {_key_kind(public)}")
                public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            else:
                if not isinstance(public, ec.EllipticCurvePublicKey):
                    raise JwtError(f"alg ES256 needs an EC key; the issuer's is {_key_kind(public)}")
                half = len(signature) // 2
                der = utils.encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                                 int.from_bytes(signature[half:], "big"))
                public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise JwtError("bad signature") from None
    else:
        raise JwtError(f"alg {alg!r} is not supported")
    if not isinstance(claims, dict):
        raise JwtError("claims are not an object")
    return claims


def _key_kind(public: object) -> str:
    return type(public).__name__.removesuffix("PublicKey").lstrip("_") or "unknown"


class JwtAuthorizer:
    """HTTP API JWT authorizer: signature with the issuer's local key, exp/nbf, iss, aud (or client_id), scopes."""

    def __init__(self, spec: dict[str, Any], keys: dict[str, str]) -> None:
        config = spec.get("jwtConfiguration") or {}
        self._issuer = str(config.get("issuer", ""))
        audience = config.get("audience") or []
        self._audience = [str(a) for a in (audience if isinstance(audience, list) else [audience])]
        self._key = keys.get(self._issuer)
        self._sources = _sources(spec, {}, "$request.header.Authorization")

    def __call__(self, request: HttpRequest, params: dict[str, str], route: dict[str, Any]) -> Decision:
        token = _identity(request, params, self._sources[0]) if self._sources else None
        if not token or self._key is None:
            return Decision(UNAUTHORIZED)
        token = token.split(" ", 1)[1] if token.lower().startswith("bearer ") else token
        try:
            claims = verify_jwt(token.strip(), self._key)
        except JwtError:
            return Decision(UNAUTHORIZED)
        now = time.time()
        audiences = claims.get("aud", claims.get("client_id"))
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if (not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now
                or (isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now)
                or claims.get("iss") != self._issuer
                or (self._audience and not set(map(str, audiences)) & set(self._audience))):
            return Decision(UNAUTHORIZED)
        granted = str(claims.get("scope", claims.get("scp", "")))
        granted_scopes = granted.split() if isinstance(claims.get("scp"), str) or "scope" in claims else (
            claims.get("scp") or [])
        wanted = route.get("scopes") or []
        if wanted and not set(wanted) & set(granted_scopes):
            return Decision(FORBIDDEN_HTTP)
        return Decision(context={"jwt": {"claims": {k: v if isinstance(v, str) else json.dumps(v)
                                                    for k, v in claims.items()},
                                         "scopes": list(wanted) or None}})
