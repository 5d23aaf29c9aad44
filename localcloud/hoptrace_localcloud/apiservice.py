"""AWS service integrations of API routes, answered by the local cloud: HTTP API first-class integrations
(`integrationSubtype` `SQS-SendMessage`, `EventBridge-PutEvents`, with `requestParameters` mappings) and REST
`aws` integrations with SQS (`sqs:path/<account>/<queue>` or `sqs:action/SendMessage`, `requestTemplates` in
the small VTL subset such templates use, or `requestParameters`)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from .events.apigateway import HttpRequest, HttpResponse
from .ruletargets import json_path

Respond = Callable[[HttpRequest, dict[str, str]], HttpResponse]
_SQS_PATH = re.compile(r":sqs:path/(\d+)/([^/]+)$")
_MAPPING = re.compile(r"\$\{?(request\.[A-Za-z]+(?:\.[\w.\-]+)?|context\.[\w.]+|stageVariables\.\w+)\}?")


def _json_response(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def _body_json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def map_parameter(expression: str, request: HttpRequest, params: dict[str, str], request_id: str) -> str:
    """An HTTP API parameter mapping value: static text with `$request.body[.path]`, `$request.header.x`,
    `$request.querystring.x`, `$request.path.x`, `$context.requestId` substituted."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        kind, _, rest = name.partition(".")
        if kind == "request":
            source, _, key = rest.partition(".")
            if source == "body":
                if not key:
                    return (request.body or b"").decode("utf-8", errors="replace")
                value = json_path(_body_json(request), key)
                return value if isinstance(value, str) else json.dumps(value)
            if source == "header":
                return request.header(key) or ""
            if source == "querystring":
                return next((v for k, v in request.query if k == key), "")
            if source == "path":
                return params.get(key, "")
        if name == "context.requestId":
            return request_id
        return ""

    return _MAPPING.sub(one, expression)


def render_vtl(template: str, request: HttpRequest, params: dict[str, str], request_id: str) -> str:
    """The VTL subset request templates for service integrations use: `$input.body`, `$input.json('$.x')`,
    `$input.path('$.x')`, `$input.params('x')`, `$util.urlEncode/escapeJavaScript/base64Encode(...)`,
    `$context.requestId`."""
    body_text = (request.body or b"").decode("utf-8", errors="replace")
    parsed = _body_json(request)

    def value(expression: str) -> str:
        expression = expression.strip()
        call = re.fullmatch(r"\$util\.(\w+)\((.*)\)", expression, re.DOTALL)
        if call:
            inner = value(call.group(2))
            utils: dict[str, Callable[[str], str]] = {
                "urlEncode": quote_plus, "escapeJavaScript": lambda s: json.dumps(s)[1:-1],
                "base64Encode": lambda s: base64.b64encode(s.encode()).decode()}
            return utils.get(call.group(1), str)(inner)
        if expression == "$input.body":
            return body_text
        found = re.fullmatch(r"\$input\.(json|path|params)\('([^']*)'\)", expression)
        if found:
            kind, arg = found.groups()
            if kind == "params":
                return params.get(arg) or next((v for k, v in request.query if k == arg), None) or \
                    request.header(arg) or ""
            picked = json_path(parsed, arg)
            return json.dumps(picked) if kind == "json" or not isinstance(picked, str) else picked
        if expression in ("$context.requestId", "$context.extendedRequestId"):
            return request_id
        if expression.startswith(("'", '"')):
            return expression[1:-1]
        return expression

    pattern = re.compile(r"\$util\.\w+\((?:[^()]|\([^()]*\))*\)|\$input\.(?:json|path|params)\('[^']*'\)"
                         r"|\$input\.body|\$context\.\w+")
    return pattern.sub(lambda m: value(m.group(0)), template)


class ServiceIntegrations:
    """Builds the responder of a service integration, or None (the caller warns) when it is not emulated."""

    def __init__(self, client: Callable[[str], Any], account_id: str, region: str) -> None:
        self._client = client
        self._account = account_id
        self._region = region

    def http_api(self, integration: dict[str, Any]) -> Respond | None:
        subtype = str(integration.get("integrationSubtype", ""))
        mappings = dict(integration.get("requestParameters") or {})
        if subtype == "SQS-SendMessage":
            return lambda request, params: self._send(request, params, mappings)
        if subtype == "EventBridge-PutEvents":
            return lambda request, params: self._put_events(request, params, mappings)
        return None

    def rest(self, integration: dict[str, Any]) -> Respond | None:
        uri = str(integration.get("uri", ""))
        path = _SQS_PATH.search(uri)
        if path is None and not uri.endswith(":sqs:action/SendMessage"):
            return None
        queue = path.group(2) if path else None
        templates = integration.get("requestTemplates") or {}
        parameters = integration.get("requestParameters") or {}
        status = int(((integration.get("responses") or {}).get("default") or {}).get("statusCode", 200))

        def respond(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
            request_id = str(uuid.uuid4())
            content_type = (request.header("content-type") or "application/json").split(";")[0].strip()
            template = templates.get(content_type) or templates.get("application/json")
            fields: dict[str, str] = {}
            if template is not None:
                fields.update(parse_qsl(render_vtl(str(template), request, params, request_id),
                                        keep_blank_values=True))
            for key, source in parameters.items():
                if key.startswith("integration.request.querystring."):
                    fields[key.rsplit(".", 1)[1]] = self._rest_parameter(str(source), request, params)
            if fields.get("Action", "SendMessage") != "SendMessage" or "MessageBody" not in fields:
                return _json_response(400, {"message": "only Action=SendMessage with a MessageBody is emulated"})
            mapped = {"QueueUrl": fields.get("QueueUrl") or queue or "", "MessageBody": fields["MessageBody"]}
            for name in ("MessageGroupId", "MessageDeduplicationId", "DelaySeconds"):
                if name in fields:
                    mapped[name] = fields[name]
            response = self._send_message(mapped)
            return HttpResponse(status, response.headers, response.body) if response.status == 200 else response

        return respond

    @staticmethod
    def _rest_parameter(source: str, request: HttpRequest, params: dict[str, str]) -> str:
        if source.startswith("'") and source.endswith("'"):
            return source[1:-1]
        if source == "method.request.body":
            return (request.body or b"").decode("utf-8", errors="replace")
        kind, _, name = source.removeprefix("method.request.").partition(".")
        if kind == "header":
            return request.header(name) or ""
        if kind == "querystring":
            return next((v for k, v in request.query if k == name), "")
        return params.get(name, "") if kind == "path" else ""

    def _mapped(self, request: HttpRequest, params: dict[str, str], mappings: dict[str, Any]) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        return {key: map_parameter(str(value), request, params, request_id) for key, value in mappings.items()}

    def _send(self, request: HttpRequest, params: dict[str, str], mappings: dict[str, Any]) -> HttpResponse:
        return self._send_message(self._mapped(request, params, mappings))

    def _send_message(self, fields: dict[str, str]) -> HttpResponse:
        sqs = self._client("sqs")
        queue = fields.get("QueueUrl", "")
        if not queue.startswith("http"):  # a name or ARN: resolve it as SQS would
            queue = sqs.get_queue_url(QueueName=queue.rsplit(":", 1)[-1].rsplit("/", 1)[-1])["QueueUrl"]
        kwargs: dict[str, Any] = {"QueueUrl": queue, "MessageBody": fields.get("MessageBody", "")}
        for name in ("MessageGroupId", "MessageDeduplicationId"):
            if fields.get(name):
                kwargs[name] = fields[name]
        if fields.get("DelaySeconds"):
            kwargs["DelaySeconds"] = int(fields["DelaySeconds"])
        try:
            result = sqs.send_message(**kwargs)
        except Exception as exc:  # the service's error, as API Gateway relays it
            return _json_response(400, {"message": str(exc)})
        return _json_response(200, {"SendMessageResponse": {
            "ResponseMetadata": {"RequestId": result.get("ResponseMetadata", {}).get("RequestId", "")},
            "SendMessageResult": {"MD5OfMessageBody": result.get("MD5OfMessageBody"),
                                  "MessageId": result.get("MessageId"),
                                  "SequenceNumber": result.get("SequenceNumber")}}})

    def _put_events(self, request: HttpRequest, params: dict[str, str], mappings: dict[str, Any]) -> HttpResponse:
        fields = self._mapped(request, params, mappings)
        entry: dict[str, Any] = {"Source": fields.get("Source", ""), "DetailType": fields.get("DetailType", ""),
                 "Detail": fields.get("Detail", "{}"), "EventBusName": fields.get("EventBusName", "default")}
        if fields.get("Resources"):
            entry["Resources"] = [r.strip() for r in fields["Resources"].split(",")]
        result = self._client("events").put_events(Entries=[entry])
        return _json_response(200, {"Entries": result.get("Entries", []),
                                    "FailedEntryCount": result.get("FailedEntryCount", 0)})
