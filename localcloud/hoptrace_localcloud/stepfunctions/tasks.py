"""Task resources: Lambda (optimized `lambda:invoke` and a bare function ARN) run in our worker pools; SQS,
SNS, EventBridge, DynamoDB, nested Step Functions and `aws-sdk:*` calls go to moto through boto3.

Errors are named as Step Functions names them: a Lambda's own `errorType` (so `ErrorEquals:
["PaymentDeclined"]` matches the exception class), `<Service>.<ErrorCode>` for service calls.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import HEARTBEAT_TIMEOUT, TASK_FAILED, TIMEOUT, StatesError

# (service, action) of the optimized integrations: boto3 operation and how the result is shaped.
_OPTIMIZED = {
    ("sqs", "sendMessage"): "send_message",
    ("sns", "publish"): "publish",
    ("events", "putEvents"): "put_events",
    ("dynamodb", "putItem"): "put_item",
    ("dynamodb", "getItem"): "get_item",
    ("dynamodb", "updateItem"): "update_item",
    ("dynamodb", "deleteItem"): "delete_item",
    ("states", "startExecution"): "start_execution",
}
_ERROR_PREFIX = {"sqs": "SQS", "sns": "SNS", "events": "EventBridge", "dynamodb": "DynamoDB",
                 "states": "StepFunctions", "lambda": "Lambda"}
_RESOURCE = re.compile(r"^arn:aws[\w-]*:states:[\w-]*:\d*:(?P<service>[\w-]+(?::[\w-]+)?):(?P<action>[\w]+)"
                       r"(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?$")
_FUNCTION = re.compile(r"^arn:aws[\w-]*:lambda:(?P<region>[\w-]+):\d+:function:(?P<name>[^:]+)(?::[^:]+)?$")


@dataclass(frozen=True)
class TaskSpec:
    resource_arn: str
    resource_type: str  # history's resourceType: "lambda", "sqs", "aws-sdk:dynamodb", …
    resource: str  # history's resource: "invoke", "sendMessage.waitForTaskToken", …
    service: str
    action: str
    pattern: str
    region: str
    legacy_lambda: bool = False

    @property
    def wait_for_token(self) -> bool:
        return self.pattern == ".waitForTaskToken"


class TokenWaiter:
    def __init__(self) -> None:
        self._done = threading.Event()
        self._beat = threading.Event()
        self.outcome: tuple[bool, Any] | None = None

    def complete(self, ok: bool, value: Any) -> None:
        self.outcome = (ok, value)
        self._done.set()

    def heartbeat(self) -> None:
        self._beat.set()

    def wait(self, timeout: float | None, heartbeat: float | None, scale: float, stop: threading.Event) -> Any:
        """Block until SendTaskSuccess/Failure, a timeout, a missed heartbeat, or StopExecution."""
        import time

        deadline = time.monotonic() + timeout * scale if timeout else None
        beat_deadline = time.monotonic() + heartbeat * scale if heartbeat else None
        while not self._done.wait(0.05):
            now = time.monotonic()
            if stop.is_set():
                from .interpreter import Aborted

                raise Aborted()
            if self._beat.is_set():
                self._beat.clear()
                beat_deadline = now + heartbeat * scale if heartbeat else None
            if deadline is not None and now > deadline:
                raise StatesError(TIMEOUT, "no SendTaskSuccess or SendTaskFailure before TimeoutSeconds")
            if beat_deadline is not None and now > beat_deadline:
                raise StatesError(HEARTBEAT_TIMEOUT, "no SendTaskHeartbeat within HeartbeatSeconds")
        assert self.outcome is not None
        ok, value = self.outcome
        if not ok:
            raise StatesError(*value)
        return value


class TokenRegistry:
    def __init__(self) -> None:
        self._waiters: dict[str, TokenWaiter] = {}
        self._lock = threading.Lock()

    def register(self, token: str) -> TokenWaiter:
        with self._lock:
            waiter = self._waiters[token] = TokenWaiter()
            return waiter

    def forget(self, token: str) -> None:
        with self._lock:
            self._waiters.pop(token, None)

    def get(self, token: str) -> TokenWaiter | None:
        with self._lock:
            return self._waiters.get(token)


InvokeLambda = Callable[[str, Any, "str | None"], tuple[Any, "dict[str, Any] | None", str]]


class TaskRunner:
    """Calls task resources; one per local cloud (shared by every execution)."""

    def __init__(self, region: str, invoke_lambda: InvokeLambda, client: Callable[[str], Any],
                 start_child: Callable[[dict[str, Any], str | None, bool], Any] | None = None) -> None:
        self.region = region
        self._invoke = invoke_lambda
        self._client = client
        self.start_child = start_child
        self.tokens = TokenRegistry()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(96)

    def spec(self, resource: str) -> TaskSpec:
        function = _FUNCTION.match(resource)
        if function:
            return TaskSpec(resource, "lambda", resource, "lambda", "invoke", "", function.group("region"), True)
        match = _RESOURCE.match(resource)
        if match is None:
            raise StatesError(TASK_FAILED, f"the Task resource {resource!r} is not a Lambda function or a "
                                           "Step Functions service integration this local cloud runs")
        service, action, pattern = match.group("service"), match.group("action"), match.group("pattern") or ""
        return TaskSpec(resource, service, action + pattern, service, action, pattern, self.region)

    def unsupported_reason(self, resource: str) -> str | None:
        """Why a resource will not run locally (a definition warning), or None."""
        try:
            spec = self.spec(resource)
        except StatesError as exc:
            return exc.cause
        if spec.service == "lambda" and spec.action == "invoke":
            return None if spec.pattern in ("", ".waitForTaskToken") else f"{resource}: {spec.pattern} is not " \
                                                                              "a Lambda pattern"
        if spec.service.startswith("aws-sdk:"):
            return None if spec.pattern in ("", ".waitForTaskToken") else f"{resource}: aws-sdk has no .sync"
        if (spec.service, spec.action) not in _OPTIMIZED:
            return f"{resource} is not emulated (Lambda, SQS, SNS, EventBridge, DynamoDB, Step Functions and " \
                   "aws-sdk:* are)"
        if spec.pattern.startswith(".sync") and spec.service != "states":
            return f"{resource}: .sync runs only for states:startExecution locally"
        return None

    def call(self, spec: TaskSpec, params: Any, trace_header: str | None) -> Any:
        if spec.service == "lambda":
            return self._lambda(spec, params, trace_header)
        if spec.service == "states" and spec.action == "startExecution" and spec.pattern.startswith(".sync"):
            if self.start_child is None:
                raise StatesError(TASK_FAILED, "nested executions are not available here")
            return self.start_child(params, trace_header, spec.pattern == ".sync:2")
        if spec.service.startswith("aws-sdk:"):
            service = spec.service.split(":", 1)[1]
            method = re.sub(r"(?<!^)(?=[A-Z])", "_", spec.action).lower()
            return self._sdk(_SDK_CLIENTS.get(service, service), method, params, _sdk_error_prefix(service))
        operation = _OPTIMIZED.get((spec.service, spec.action))
        if operation is None:
            raise StatesError(TASK_FAILED, f"{spec.resource_arn} is not emulated locally")
        return self._sdk(spec.service, operation, _encode_bodies(spec, params), _ERROR_PREFIX[spec.service])

    def _lambda(self, spec: TaskSpec, params: Any, trace_header: str | None) -> Any:
        if spec.legacy_lambda:
            function, event = spec.resource_arn, params
        else:
            if not isinstance(params, dict) or "FunctionName" not in params:
                raise StatesError(TASK_FAILED, "lambda:invoke needs Parameters with FunctionName")
            function, event = str(params["FunctionName"]), params.get("Payload", {})
            if isinstance(event, str):
                try:
                    event = json.loads(event)
                except ValueError:
                    pass
        result, error, request_id = self._invoke(function, event, trace_header)
        if error is not None:
            cause = json.dumps({"errorMessage": error.get("errorMessage", ""), "errorType": error.get("errorType"),
                                "requestId": request_id, "stackTrace": error.get("stackTrace", [])})
            raise StatesError(str(error.get("errorType") or "Lambda.Unknown"), cause)
        if spec.legacy_lambda:
            return result
        return {"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200,
                "SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId": request_id}}

    def _sdk(self, service: str, operation: str, params: Any, prefix: str) -> Any:
        from botocore.exceptions import ClientError, ParamValidationError

        client = self._client(service)
        try:
            response = getattr(client, operation)(**(params or {}))
        except AttributeError:
            raise StatesError(TASK_FAILED, f"{service} has no operation {operation}") from None
        except ParamValidationError as exc:
            raise StatesError(f"{prefix}.ValidationException", str(exc)) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            raise StatesError(f"{prefix}.{code}", str(exc)) from None
        response.pop("ResponseMetadata", None)
        return json.loads(json.dumps(response, default=_json_default))


# aws-sdk:<service> names that are not boto3's client names, and the error prefixes AWS gives them.
_SDK_CLIENTS = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}
_SDK_ERROR_PREFIX = {"dynamodb": "DynamoDb", "s3": "S3", "sqs": "Sqs", "sns": "Sns", "sfn": "Sfn",
                     "eventbridge": "EventBridge", "lambda": "Lambda"}


def _sdk_error_prefix(service: str) -> str:
    return _SDK_ERROR_PREFIX.get(service, service[:1].upper() + service[1:])


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def _encode_bodies(spec: TaskSpec, params: Any) -> Any:
    """Step Functions serialises object bodies for the caller; boto3 wants strings."""
    if not isinstance(params, dict):
        return params
    params = dict(params)
    for key in ("MessageBody", "Message"):
        if key in params and not isinstance(params[key], str):
            params[key] = json.dumps(params[key], separators=(",", ":"))
    if spec.action == "putEvents":
        params["Entries"] = [dict(e, Detail=json.dumps(e["Detail"], separators=(",", ":")))
                             if isinstance(e, dict) and not isinstance(e.get("Detail", ""), str) else e
                             for e in params.get("Entries") or []]
    return params
