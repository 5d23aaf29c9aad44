"""Reads the operations of an API Gateway OpenAPI/Swagger body (`Body` of `AWS::ApiGateway::RestApi` and
`AWS::ApiGatewayV2::Api`, which SAM generates from `Events` and `DefinitionBody`): path, method, the
`x-amazon-apigateway-integration` and the security requirement."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_ANY = "x-amazon-apigateway-any-method"
FUNCTION_URI = re.compile(r"functions/(arn:[^/]+:lambda:[^/]+:function:[^/:]+)(?::[^/]+)?/invocations")


@dataclass
class Operation:
    method: str  # upper case, or ANY
    path: str  # as written, `$default` for the HTTP API default route
    integration: dict[str, Any]
    security: list[dict[str, Any]] | None = None  # None: the API's default applies
    where: str = ""

    @property
    def function_arn(self) -> str | None:
        """The function a Lambda (proxy) integration calls, from its `uri`."""
        uri = self.integration.get("uri")
        match = FUNCTION_URI.search(uri) if isinstance(uri, str) else None
        return match.group(1) if match else None


@dataclass
class Definition:
    operations: list[Operation] = field(default_factory=list)
    security: list[dict[str, Any]] = field(default_factory=list)
    security_schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    binary_media_types: list[str] = field(default_factory=list)


def read_definition(body: Any) -> Definition:
    """The operations of a resolved body; anything that is not a mapping gives no operations."""
    if not isinstance(body, dict):
        return Definition()
    schemes = dict((body.get("components") or {}).get("securitySchemes") or {})
    schemes.update(body.get("securityDefinitions") or {})
    shared = (body.get("components") or {}).get("x-amazon-apigateway-integrations") or {}
    definition = Definition(security=list(body.get("security") or []), security_schemes=schemes,
                            binary_media_types=list(body.get("x-amazon-apigateway-binary-media-types") or []))
    for path, item in (body.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for key, op in item.items():
            method = "ANY" if key == _ANY else key.upper() if key in _METHODS else None
            if method is None or not isinstance(op, dict):
                continue
            integration = op.get("x-amazon-apigateway-integration") or {}
            ref = integration.get("$ref") if isinstance(integration, dict) else None
            if isinstance(ref, str):
                integration = shared.get(ref.rsplit("/", 1)[-1]) or {}
            definition.operations.append(Operation(method, str(path), dict(integration), op.get("security"),
                                                   f"paths.{path}.{key}"))
    return definition
