"""Emulates `AWS::ApiGateway::RestApi` and `AWS::ApiGatewayV2::Api` from their OpenAPI `Body` (what SAM
generates for `Api`/`HttpApi` events and `DefinitionBody`): each operation becomes a route of the local API
server; stage names come from the `Stage` resources."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .apiauth import JwtAuthorizer, LambdaAuthorizer, authorizer_function_arn
from .apiserver import ApiServer, Route
from .apiservice import ServiceIntegrations
from .diagnostics import Diagnostics
from .openapi import Definition, Operation, read_definition
from .pool import FunctionPool

# API Gateway's integration timeouts (REST 29 s, HTTP API 30 s): a request still waiting for a free worker
# then is answered as API Gateway answers a timed-out integration, and its function never runs.
INTEGRATION_TIMEOUT_S = {"rest": 29.0, "http": 30.0}

REST_API = "AWS::ApiGateway::RestApi"
HTTP_API = "AWS::ApiGatewayV2::Api"
STAGE_TYPES = ("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage")
# HTTP API first-class integrations with Step Functions (`integrationSubtype`, parameters in requestParameters).
_SFN_SUBTYPES = frozenset({"StepFunctions-StartExecution", "StepFunctions-StartSyncExecution"})
_STATE_MACHINE_ARN = re.compile(r'stateMachineArn\\?"\s*:\s*\\?"(arn:[^"\\]+)')


@dataclass
class _Api:
    logical_id: str
    kind: str  # "rest" or "http"
    ref: str
    props: dict[str, Any]
    stages: list[str] = field(default_factory=list)


class ApiWiring:
    """Collects APIs and stages while resources are wired, then adds every route at `finish()`."""

    def __init__(self, server: ApiServer, diagnostics: Diagnostics,
                 function_by_arn: Callable[[str], FunctionPool | None], note: Callable[[str, str], None],
                 services: ServiceIntegrations | None = None, jwt_keys: dict[str, str] | None = None,
                 account_id: str = "123456789012", region: str = "us-east-1") -> None:
        self._server = server
        self._services = services
        self._jwt_keys = jwt_keys or {}
        self._account = account_id
        self._region = region
        self._diag = diagnostics
        self._function = function_by_arn
        self._note = note
        self._apis: dict[str, _Api] = {}
        self._stages: dict[str, list[str]] = {}
        self.state_machines: Any = None  # statemachines.StateMachines, for `states:action/StartExecution`

    def add_api(self, logical_id: str, rtype: str, ref: str, props: dict[str, Any]) -> None:
        self._apis[logical_id] = _Api(logical_id, "rest" if rtype == REST_API else "http", ref, props)

    def add_stage(self, logical_id: str, props: dict[str, Any]) -> None:
        api = str(props.get("RestApiId") or props.get("ApiId") or "")
        if "StageName" in props:
            self._stages.setdefault(api, []).append(str(props["StageName"]))

    def finish(self) -> None:
        for api in self._apis.values():
            stages = self._stages.get(api.ref) or (["Prod"] if api.kind == "rest" else ["$default"])
            self._wire(api, stages[0])

    def _wire(self, api: _Api, stage: str) -> None:
        body = api.props.get("Body")
        if body is None:
            key = "BodyS3Location" if "BodyS3Location" in api.props else "Body"
            self._diag.unsupported(api.logical_id, key, "no inline OpenAPI body; only routes of an OpenAPI body "
                                   "(DefinitionBody / a local DefinitionUri) are served")
            return
        definition = read_definition(body)
        for operation in definition.operations:
            self._route(api, stage, definition, operation)

    def _authorizer(self, api: _Api, definition: Definition, op: Operation, where: str
                    ) -> tuple[Any, tuple[str, ...]] | None:
        """The route's authorizer and scopes; None when the route cannot be served as configured (warned)."""
        requirements = op.security if op.security is not None else definition.security
        for requirement in requirements or []:
            for name, scopes in (requirement or {}).items():
                scheme = definition.security_schemes.get(name) or {}
                spec = scheme.get("x-amazon-apigateway-authorizer")
                if not isinstance(spec, dict):
                    continue  # API keys, IAM (sigv4), NONE: not enforced locally
                kind = str(spec.get("type", "")).lower()
                if kind == "jwt":
                    issuer = str((spec.get("jwtConfiguration") or {}).get("issuer", ""))
                    if issuer not in self._jwt_keys:
                        self._diag.unsupported(where, "security", f"JWT authorizer {name}: no local key for issuer "
                                               f"{issuer!r} (LocalCloudConfig.jwt_keys / hoptrace local --jwt-key "
                                               "ISSUER=FILE); every request gets 401")
                    return JwtAuthorizer(spec, self._jwt_keys), tuple(scopes or ())
                if kind in ("token", "request"):
                    arn = authorizer_function_arn(spec)
                    pool = self._function(arn) if arn else None
                    if pool is None:
                        self._diag.unsupported(where, "security", f"authorizer {name}: {arn or 'its authorizerUri'} "
                                               "is not a function that runs locally; the route answers 404")
                        return None
                    return LambdaAuthorizer(api.kind, spec, scheme, pool.invoke, self._account,
                                            self._region), tuple(scopes or ())
                self._diag.unsupported(where, "security", f"authorizer type {kind!r} ({name}) is not emulated; "
                                       "requests are not authorized locally")
        return (None, ())

    def _route(self, api: _Api, stage: str, definition: Definition, op: Operation) -> None:
        where = f"{api.logical_id}.Body.{op.where}"
        kind = str(op.integration.get("type", "")).lower()
        arn = op.function_arn
        auth = self._authorizer(api, definition, op, where)
        if auth is None:
            return
        authorize, scopes = auth
        respond = None
        if self._services is not None and kind in ("aws_proxy", "aws") and not arn:
            respond = (self._services.http_api(op.integration) if api.kind == "http"
                       else self._services.rest(op.integration) if kind == "aws" else None)
        if respond is not None:
            self._server.add_route(Route(op.method, op.path, api.kind, _no_function, "service", stage=stage,
                                         api_id=api.ref, authorize=authorize, scopes=scopes, respond=respond))
            subtype = op.integration.get("integrationSubtype") or op.integration.get("uri")
            self._note(f"{api.logical_id}", f"{op.method} {op.path} -> {subtype}")
            return
        if kind == "aws_proxy" and arn:
            pool = self._function(arn)
            if pool is None:
                self._diag.unsupported(where, "x-amazon-apigateway-integration",
                                       f"{arn} is not a function that runs locally; the route answers 404")
                return
            payload = api.kind
            if api.kind == "http" and str(op.integration.get("payloadFormatVersion", "2.0")) == "1.0":
                payload = "rest"
            binary = tuple(definition.binary_media_types) + tuple(api.props.get("BinaryMediaTypes") or ())
            invoke = functools.partial(pool.invoke, start_within=INTEGRATION_TIMEOUT_S[api.kind])
            self._server.add_route(Route(op.method, op.path, payload, invoke, pool.spec.name, stage=stage,
                                         api_id=api.ref, binary_media_types=binary, authorize=authorize,
                                         scopes=scopes))
            label = "Api" if api.kind == "rest" else "HttpApi"
            self._note(pool.spec.name, f"{label} {op.method} {op.path}")
            return
        subtype = str(op.integration.get("integrationSubtype", ""))
        if subtype in _SFN_SUBTYPES and self.state_machines is not None:
            parameters = op.integration.get("requestParameters") or {}
            arn = str(parameters.get("StateMachineArn", ""))
            if arn.startswith("arn:"):
                invoke = self.state_machines.api_invoke(arn, sync=subtype.endswith("SyncExecution"),
                                                        input_from=str(parameters.get("Input", "$request.body")))
                self._server.add_route(Route(op.method, op.path, "rest", invoke, arn, stage=stage, api_id=api.ref,
                                             authorize=authorize, scopes=scopes))
                self._note(arn.rsplit(":", 1)[-1], f"HttpApi {op.method} {op.path} ({subtype})")
                return
        uri = str(op.integration.get("uri", ""))
        if kind == "aws" and uri.endswith(":states:action/StartExecution") and self.state_machines is not None:
            machine = _STATE_MACHINE_ARN.search(json.dumps(op.integration.get("requestTemplates") or {}))
            if machine:
                arn = machine.group(1)
                self._server.add_route(Route(op.method, op.path, "rest", self.state_machines.api_invoke(arn), arn,
                                             stage=stage, api_id=api.ref, authorize=authorize, scopes=scopes))
                self._note(arn.rsplit(":", 1)[-1], f"Api {op.method} {op.path}")
                return
        self._diag.unsupported(where, "x-amazon-apigateway-integration",
                               f"integration type {kind or 'none'!r} ({uri or 'no uri'}) is not emulated; "
                               "the route answers 404")


def _no_function(event: dict[str, Any]) -> Any:
    raise AssertionError("a service integration route answers through `respond`, never invokes")
