"""API Gateway proxy events (REST v1, HTTP API v2) and the mapping of handler results back to HTTP."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


@dataclass
class HttpRequest:
    """What the local HTTP server received, before it is shaped for a function."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def _body(request: HttpRequest) -> tuple[str | None, bool]:
    """HTTP API (v2): text content types as text, anything else base64."""
    if not request.body:
        return None, False
    content_type = request.header("content-type") or ""
    if not content_type or any(kind in content_type for kind in _TEXT_TYPES):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True


def _with_platform_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's headers plus those API Gateway always adds: X-Forwarded-*, an X-Ray trace id."""
    headers = list(request.headers)
    present = {key.lower() for key, _ in headers}
    host = request.header("host") or ""
    port = host.rsplit(":", 1)[1] if ":" in host and host.rsplit(":", 1)[1].isdigit() else "80"
    added = (("X-Forwarded-For", request.source_ip), ("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", port),
             ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"))
    headers += [(key, value) for key, value in added if key.lower() not in present]
    return headers


def is_binary(content_type: str, binary_media_types: tuple[str, ...]) -> bool:
    """Whether a REST API treats the content type as binary: it matches one of the API's binary media types
    (`*/*`, `image/*` or exact), as API Gateway decides."""
    kind = content_type.split(";", 1)[0].strip().lower()
    for pattern in binary_media_types:
        pattern = pattern.replace("~1", "/").strip().lower()
        if pattern in ("*/*", kind) or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False


def _rest_body(request: HttpRequest, binary_media_types: tuple[str, ...]) -> tuple[str | None, bool]:
    """REST API (v1): base64 only for binary media types of the API; everything else is passed as text."""
    if not request.body:
        return None, False
    if not is_binary(request.header("content-type") or "", binary_media_types):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            return request.body.decode("utf-8", errors="replace"), False
    return base64.b64encode(request.body).decode(), True


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in pairs:
        result.setdefault(key, []).append(value)
    return result


def rest_event(request: HttpRequest, resource: str, path_parameters: dict[str, str], stage: str,
               api_id: str, account_id: str, binary_media_types: tuple[str, ...] = ()) -> dict[str, Any]:
    """A REST API (v1) proxy integration event."""
    body, is_base64 = _rest_body(request, binary_media_types)
    now = time.time()
    headers = _multi(_with_platform_headers(request))
    query = _multi(request.query)
    return {
        "version": "1.0",
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {key: values[-1] for key, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {key: values[-1] for key, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid4().hex[:6],
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{request.path}",
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": request.source_ip, "userAgent": request.header("user-agent"),
                         "accessKey": None, "accountId": None, "caller": None, "user": None, "userArn": None,
                         "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
                         "cognitoIdentityId": None, "cognitoIdentityPoolId": None, "principalOrgId": None,
                         "apiKey": None},
            "domainName": f"{api_id}.execute-api.localhost",
            "apiId": api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_api_event(request: HttpRequest, route_key: str, path_parameters: dict[str, str], stage: str,
                   api_id: str, account_id: str) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event: lower-case headers, comma-joined repeats, cookies apart."""
    body, is_base64 = _body(request)
    now = time.time()
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in _with_platform_headers(request):
        if key.lower() == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
            continue
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in request.query:
        query[key] = f"{query[key]},{value}" if key in query else value
    raw_query = "&".join(f"{key}={value}" for key, value in request.query)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": headers,
        "stageVariables": {},
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": f"{api_id}.execute-api.localhost",
            "domainPrefix": api_id,
            "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                     "sourceIp": request.source_ip, "userAgent": request.header("user-agent") or ""},
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    return event


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


BAD_GATEWAY = HttpResponse(502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}')
# What API Gateway answers when the integration does not answer within its timeout (REST, HTTP API).
ENDPOINT_TIMED_OUT = HttpResponse(504, [("Content-Type", "application/json")],
                                  b'{"message": "Endpoint request timed out"}')
SERVICE_UNAVAILABLE = HttpResponse(503, [("Content-Type", "application/json")], b'{"message":"Service Unavailable"}')


def _decode_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def rest_response(result: Any) -> HttpResponse:
    """Map a v1 proxy result; anything without a statusCode is a malformed response (502), as on AWS."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return BAD_GATEWAY
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(key, str(value)) for value in values]
    return HttpResponse(int(result["statusCode"]), headers, _decode_body(result))


def http_api_response(result: Any) -> HttpResponse:
    """Map a v2 result: a dict with statusCode is explicit, anything else becomes a 200 JSON body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("Content-Type", "application/json")], body.encode())
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", cookie) for cookie in result.get("cookies") or []]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, _decode_body(result))
