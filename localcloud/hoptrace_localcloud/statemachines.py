"""`AWS::StepFunctions::StateMachine`: the definition (inline, string, or a local file by S3 location) with its
substitutions, registered with the local Step Functions service; EventBridge rules, schedules and API routes
that start executions. (`AWS::Serverless::StateMachine` reaches here as samtranslator's CFN resource.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostics
from .pool import Invocation
from .resources import ResourceInfo
from .stepfunctions.definition import DefinitionError
from .stepfunctions.service import ApiError, StepFunctionsService

CFN_TYPE = "AWS::StepFunctions::StateMachine"
TYPES = (CFN_TYPE,)
_SUBSTITUTION = re.compile(r"\$\{([\w.:-]+)\}")


class StateMachines:
    """Creates the template's state machines in the local Step Functions service and wires what starts them."""

    def __init__(self, service: StepFunctionsService, diagnostics: Diagnostics, base_dir: Path,
                 stack_name: str, client: Any) -> None:
        self.service = service
        self._diag = diagnostics
        self._base = base_dir
        self._stack = stack_name
        self._client = client

    def create(self, logical_id: str, rtype: str, props: dict[str, Any]) -> ResourceInfo | None:
        try:
            definition = self._definition(logical_id, props)
        except (DefinitionError, OSError, ValueError) as exc:
            self._diag.unsupported(logical_id, "Definition", f"{exc}; state machine not created")
            return None
        name = str(props.get("StateMachineName") or f"{self._stack}-{logical_id}")[:80]
        role = str(props.get("RoleArn") or f"arn:aws:iam::{self.service.account_id}:role/{logical_id}Role")
        tracing = bool((props.get("TracingConfiguration") or {}).get("Enabled"))
        machine_type = str(props.get("StateMachineType") or "STANDARD")
        for key in ("LoggingConfiguration",):
            if key in props:
                self._diag.unsupported(logical_id, key, "executions are not logged to CloudWatch Logs locally; "
                                                        "read their history (GetExecutionHistory)")
        try:
            machine, warnings = self.service.register(name, definition, role, machine_type, tracing)
        except DefinitionError as exc:
            self._diag.unsupported(logical_id, "Definition", f"{exc}; state machine not created")
            return None
        for line in warnings:
            self._diag.unsupported(logical_id, "Definition", line)
        return ResourceInfo(logical_id, CFN_TYPE, machine.arn, {"Arn": machine.arn, "Name": name,
                                                               "StateMachineName": name})

    def _definition(self, logical_id: str, props: dict[str, Any]) -> str:
        if "Definition" in props:
            text = json.dumps(props["Definition"])
        elif "DefinitionString" in props:
            text = str(props["DefinitionString"])
        elif "DefinitionS3Location" in props:
            text = self._read_location(props["DefinitionS3Location"])
        else:
            raise DefinitionError("Definition, DefinitionString or DefinitionS3Location is required")
        substitutions = props.get("DefinitionSubstitutions") or {}

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in substitutions:
                return match.group(0)
            value = substitutions[key]
            text_value = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(text_value)[1:-1]  # inside a JSON string: escape as JSON would

        return _SUBSTITUTION.sub(substitute, text)

    def _read_location(self, location: Any) -> str:
        """A local file (SAM `DefinitionUri: statemachine/x.asl.json`, or an S3 key that is a path here), else
        the object in moto's S3."""
        key = str(location.get("Key", "")) if isinstance(location, dict) else str(location)
        path = (self._base / key) if not Path(key).is_absolute() else Path(key)
        if path.is_file():
            return _as_json_text(path.read_text(encoding="utf-8"), path)
        bucket = location.get("Bucket") if isinstance(location, dict) else None
        if not bucket:
            raise DefinitionError(f"DefinitionS3Location {key!r} is not a file under {self._base}")
        body = self._client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        return _as_json_text(body, Path(key))

    # -- what starts executions ---------------------------------------------------------------------
    def add_rule_target(self, wiring: Any, rule: str, bus: str, machine_arn: str, input_json: str | None) -> None:
        """EventBridge rule -> StartExecution with the event (or the target's Input) as input."""
        label = f"states-{machine_arn.rsplit(':', 1)[-1]}"
        wiring.add_rule_delivery(rule, bus, label, lambda body: self.start_from_event(machine_arn, body),
                                 input_json)
        wiring.summary.add(machine_arn.rsplit(":", 1)[-1], f"EventBridge rule {rule} on {bus}")

    def add_schedule(self, wiring: Any, expression: str, rule_arn: str, machine_arn: str,
                     input_json: str | None) -> None:
        wiring.add_scheduled(expression, rule_arn, input_json,
                             lambda event: self.start_from_event(machine_arn, json.dumps(event)))
        wiring.summary.add(machine_arn.rsplit(":", 1)[-1], f"Schedule {expression}")

    def start_from_event(self, machine_arn: str, body: str, trace_header: str | None = None) -> None:
        try:
            self.service.start(machine_arn, input_text=body, trace_header=trace_header)
        except ApiError as exc:
            self._diag.unsupported(machine_arn, "Execution", f"{exc.code}: {exc.message}")

    def api_invoke(self, machine_arn: str, sync: bool = False, input_from: str = "$request.body") -> Any:
        """An API route that starts an execution: the REST `aws` integration with SAM's request template, or an
        HTTP API `StepFunctions-StartExecution`/`-StartSyncExecution` integration. The request body is the input
        (a constant `Input` too); the answer is StartExecution's `{executionArn, startDate}` or, synchronously,
        StartSyncExecution's description of the finished execution."""

        def invoke(event: dict[str, Any]) -> Invocation:
            headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
            body = (event.get("body") or "{}") if input_from == "$request.body" else input_from
            try:
                execution = self.service.start(machine_arn, input_text=body, trace_header=_trace_header(headers))
            except ApiError as exc:
                return Invocation("api", payload={"statusCode": 400, "body": json.dumps(
                    {"__type": exc.code, "message": exc.message})})
            answer: dict[str, Any] = {"executionArn": execution.arn, "startDate": execution.start}
            if sync:
                execution.done.wait()
                answer = execution.describe()
            return Invocation("api", payload={"statusCode": 200, "headers": {"Content-Type": "application/json"},
                                              "body": json.dumps(answer)})

        return invoke


def _trace_header(headers: dict[str, Any]) -> str | None:
    """The trace header the execution starts with: the request's W3C context in X-Ray form (the project's
    precedence: W3C first), else its X-Ray header (what API Gateway with tracing hands Step Functions)."""
    from hoptrace.propagation import format_xray, parse_traceparent

    carried, _ = parse_traceparent(headers.get("traceparent")) if headers.get("traceparent") else (None, None)
    if carried is not None and carried.span_id is not None:
        return format_xray(carried.trace_id, carried.span_id, bool(carried.sampled))
    return str(headers["x-amzn-trace-id"]) if headers.get("x-amzn-trace-id") else None


def _as_json_text(text: str, path: Path) -> str:
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return json.dumps(yaml.safe_load(text))
    return text

