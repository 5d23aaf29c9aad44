"""The resource every span line carries: who wrote it (service, function, region, SDK)."""

from __future__ import annotations

import os
from typing import Any

from hoptrace import semconv
from hoptrace.config import Config

VERSION = "0.1.0"
_FROM_ENV = (("AWS_REGION", semconv.CLOUD_REGION), ("AWS_LAMBDA_FUNCTION_NAME", semconv.FAAS_NAME),
             ("AWS_LAMBDA_FUNCTION_VERSION", semconv.FAAS_VERSION),
             ("AWS_LAMBDA_LOG_STREAM_NAME", semconv.FAAS_INSTANCE),
             ("AWS_LAMBDA_LOG_GROUP_NAME", semconv.AWS_LOG_GROUP_NAMES))


def resource_attributes(config: Config, env: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ) if env is None else env
    attributes: dict[str, Any] = {
        semconv.SERVICE_NAME: config.service_name,
        semconv.CLOUD_PROVIDER: "aws",
        semconv.CLOUD_PLATFORM: "aws_lambda",
        semconv.TELEMETRY_SDK_NAME: "hoptrace",
        semconv.TELEMETRY_SDK_VERSION: VERSION,
        semconv.TELEMETRY_SDK_LANGUAGE: "python",
    }
    for key, attribute in _FROM_ENV:
        if env.get(key):
            attributes[attribute] = env[key]
    try:
        attributes[semconv.FAAS_MAX_MEMORY] = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")) * 1024 * 1024
    except ValueError:
        pass
    return attributes
