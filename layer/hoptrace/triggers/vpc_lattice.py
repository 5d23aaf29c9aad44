"""VPC Lattice services targeting a function: payload v1 (`raw_path`) and v2 (`version: 2.0`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hoptrace.config import Config
from hoptrace.triggers._http import http_invocation
from hoptrace.triggers.model import Invocation

NAME = "vpc_lattice"


def matches(event: dict[str, Any]) -> bool:
    if "method" not in event or not isinstance(event.get("headers"), dict):
        return False
    if "raw_path" in event:
        return True
    request = event.get("requestContext")
    return isinstance(request, dict) and "serviceArn" in request


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    path = event.get("raw_path") or event.get("path") or "/"
    path = path.split("?", 1)[0] if isinstance(path, str) else "/"
    params = event.get("query_string_parameters")
    headers = event["headers"]
    # Lattice sends forwarded-for with a dash but the user agent as `user_agent`.
    if "user_agent" in headers and "user-agent" not in headers:
        headers = {**headers, "user-agent": headers["user_agent"]}
    forwarded = headers.get("x-forwarded-for")
    client = forwarded.split(",", 1)[0].strip() if isinstance(forwarded, str) else None
    invocation = http_invocation(NAME, event.get("method"), path, path,
                                 urlencode(params) if isinstance(params, dict) else "", headers, client, config)
    request = event.get("requestContext")
    if isinstance(request, dict) and isinstance(request.get("serviceArn"), str):
        invocation.attributes["hoptrace.vpc_lattice.service"] = request["serviceArn"]
    invocation.attributes["hoptrace.vpc_lattice.payload_version"] = "2.0" if "raw_path" not in event else "1.0"
    return invocation
