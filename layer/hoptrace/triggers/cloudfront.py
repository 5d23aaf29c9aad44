"""CloudFront Lambda@Edge events (`Records[0].cf`): viewer/origin request and response.

CloudFront headers are `{lower-name: [{key, value}]}`; the first value of each is read for context.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.triggers._messages import records_of, simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "cloudfront"


def matches(event: dict[str, Any]) -> bool:
    records = records_of(event)
    return bool(records) and isinstance(records[0].get("cf"), dict)


def _headers(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    return {name: values[0].get("value") for name, values in raw.items()
            if isinstance(values, list) and values and isinstance(values[0], dict)}


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    cf = records_of(event)[0]["cf"]
    cf_config = found if isinstance(found := cf.get("config"), dict) else {}
    request = found if isinstance(found := cf.get("request"), dict) else {}
    headers = _headers(request.get("headers"))
    finder = ContextFinder()
    finder.offer_mapping(headers, "cloudfront.headers")
    method = (text(request.get("method")) or "GET").upper()
    uri = text(request.get("uri"), 1024) or "/"
    event_type = text(cf_config.get("eventType")) or "request"
    attributes = {
        semconv.HTTP_METHOD: method, semconv.URL_PATH: uri, semconv.OPERATION: event_type,
        semconv.CLIENT_ADDRESS: text(request.get("clientIp")),
        semconv.SERVER_ADDRESS: text(cf_config.get("distributionDomainName")),
        "hoptrace.cloudfront.distribution_id": text(cf_config.get("distributionId")),
        "hoptrace.cloudfront.request_id": text(cf_config.get("requestId")),
    }
    return simple_invocation(NAME, f"{event_type} {method} {uri}", "server", "http", attributes,
                             finder.found, finder.problems)
