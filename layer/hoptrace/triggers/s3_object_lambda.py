"""S3 Object Lambda access points (`getObjectContext`): a GET answered by the function."""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.carriers import ContextFinder
from hoptrace.config import Config
from hoptrace.triggers._messages import name_from_arn, simple_invocation
from hoptrace.triggers.model import Invocation

NAME = "s3_object_lambda"


def matches(event: dict[str, Any]) -> bool:
    return isinstance(event.get("getObjectContext"), dict) and "userRequest" in event


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    configuration = found if isinstance(found := event.get("configuration"), dict) else {}
    request = found if isinstance(found := event.get("userRequest"), dict) else {}
    finder = ContextFinder()
    finder.offer_mapping(request.get("headers") or {}, "s3_object_lambda.headers")
    access_point = name_from_arn(str(configuration.get("accessPointArn", "")).replace("/", ":"))
    url = request.get("url")
    attributes = {semconv.EVENT_SOURCE: configuration.get("accessPointArn"), semconv.HTTP_METHOD: "GET",
                  semconv.URL_PATH: str(url).split("?", 1)[0] if isinstance(url, str) else None}
    return simple_invocation(NAME, f"GetObject {access_point}", "server", "datasource", attributes,
                             finder.found, finder.problems)
