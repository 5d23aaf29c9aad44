"""The state machines of one local cloud and their executions: what the Step Functions API answers.

Executions run on their own threads. Every execution writes its history; a status change is also put on
moto's default event bus as AWS's "Step Functions Execution Status Change" event, so rules (and the
hoptrace collector) see executions start and finish the way they would on AWS.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hoptrace.statespans import state_span_id

from . import definition as definitions
from .errors import StatesError
from .history import as_json, now_ms
from .interpreter import Aborted, Interpreter, Run
from .tasks import TaskRunner

logger = logging.getLogger("hoptrace.localcloud")
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
MAX_PAYLOAD = 256 * 1024  # bytes of execution input (and of any state's data) Step Functions accepts


class ApiError(Exception):
    """An error the Step Functions API returns (`code` is its exception name)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class StateMachine:
    arn: str
    name: str
    definition: dict[str, Any]
    role_arn: str
    type: str = "STANDARD"
    tracing: bool = False


@dataclass
class Execution:
    arn: str
    name: str
    machine: StateMachine
    input_text: str
    trace_header: str | None
    start: float
    run: Run
    status: str = "RUNNING"
    stop_time: float | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"executionArn": self.arn, "stateMachineArn": self.machine.arn, "name": self.name,
                               "status": self.status, "startDate": self.start, "input": self.input_text,
                               "inputDetails": {"included": True}}
        if self.stop_time is not None:
            out["stopDate"] = self.stop_time
        if self.output is not None:
            out.update(output=self.output, outputDetails={"included": True})
        if self.error is not None:
            out.update(error=self.error, cause=self.cause or "")
        if self.trace_header:
            out["traceHeader"] = self.trace_header
        return out


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def xray_fields(header: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key and value:
            fields[key] = value
    return fields


class StepFunctionsService:
    def __init__(self, region: str, account_id: str, tasks: TaskRunner, client: Callable[[str], Any],
                 time_scale: float = 1.0) -> None:
        self.region, self.account_id = region, account_id
        self.tasks = tasks
        self._client = client
        self._time_scale = time_scale
        self.machines: dict[str, StateMachine] = {}
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()
        # Status-change events go out in order on one thread, off the executions' path (a PutEvents to moto
        # costs milliseconds that StartExecution's caller should not wait for).
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._send_events, name="sfn-status-events", daemon=True).start()

    # -- state machines ------------------------------------------------------------------------------
    def register(self, name: str, definition: Any, role_arn: str, machine_type: str = "STANDARD",
                 tracing: bool = False) -> tuple[StateMachine, list[str]]:
        """Create the machine in moto (so Describe/List work there) and here; returns it and its warnings."""
        parsed = definitions.parse(definition)
        created = self._client("stepfunctions").create_state_machine(
            name=name, definition=json.dumps(parsed), roleArn=role_arn, type=machine_type,
            tracingConfiguration={"enabled": tracing})
        machine = StateMachine(created["stateMachineArn"], name, parsed, role_arn, machine_type, tracing)
        with self._lock:
            self.machines[machine.arn] = machine
        return machine, definitions.warnings(parsed, self.tasks.unsupported_reason)

    def _machine(self, arn: str) -> StateMachine:
        with self._lock:
            machine = self.machines.get(arn)
        if machine is not None:
            return machine
        try:  # created at run time through moto (CreateStateMachine from a function or a test)
            described = self._client("stepfunctions").describe_state_machine(stateMachineArn=arn)
        except Exception as exc:
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'") from exc
        try:
            parsed = definitions.parse(described["definition"])
        except definitions.DefinitionError as exc:
            raise ApiError("InvalidDefinition", str(exc)) from None
        machine = StateMachine(arn, described["name"], parsed, described.get("roleArn", ""),
                               described.get("type", "STANDARD"),
                               bool((described.get("tracingConfiguration") or {}).get("enabled")))
        with self._lock:
            self.machines[arn] = machine
        return machine

    # -- executions ----------------------------------------------------------------------------------
    def start(self, machine_arn: str, name: str | None = None, input_text: str | None = None,
              trace_header: str | None = None) -> Execution:
        machine = self._machine(machine_arn)
        name = name or str(uuid.uuid4())
        if not 1 <= len(name) <= 80 or any(c in name for c in ' <>{}[]?*"#%\\^|~`$&,;:/'):
            raise ApiError("InvalidName", f"Invalid Name: '{name}' (1-80 characters, no spaces, brackets, "
                                          "wildcards or punctuation such as : / ; ,)")
        input_text = input_text if input_text is not None else "{}"
        if len(input_text.encode()) > MAX_PAYLOAD:
            raise ApiError("InvalidExecutionInput", f"the input is {len(input_text.encode()):,} bytes; Step "
                                                    f"Functions accepts at most {MAX_PAYLOAD:,}")
        try:
            data = json.loads(input_text)
        except ValueError:
            raise ApiError("InvalidExecutionInput", f"the input is not valid JSON: {input_text[:100]!r}") from None
        kind = "express" if machine.type == "EXPRESS" else "execution"
        arn = machine.arn.replace(":stateMachine:", f":{kind}:") + f":{name}"
        with self._lock:
            if arn in self.executions:
                raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        if machine.tracing and not xray_fields(trace_header).get("Root"):
            trace_header = f"Root={new_root()};Sampled=1"
        start = now_ms()

        def trace_for_state(state: str, entered: float) -> str | None:
            fields = xray_fields(trace_header)
            if not machine.tracing or "Root" not in fields:
                return None
            parent = state_span_id(arn, state, round(entered * 1000))
            return f"Root={fields['Root']};Parent={parent};Sampled={fields.get('Sampled', '1')}"

        run = Run(arn, name, data, start, machine.role_arn, machine.arn, machine.name, self.tasks, trace_for_state,
                  self._time_scale)
        execution = Execution(arn, name, machine, input_text, trace_header, start, run)
        with self._lock:
            self.executions[arn] = execution
        run.history.add("ExecutionStarted", 0, {"input": input_text, "roleArn": machine.role_arn})
        self._status_event(execution)
        threading.Thread(target=self._run, args=(execution,), name=f"sfn-{name}"[:40], daemon=True).start()
        return execution

    def _run(self, execution: Execution) -> None:
        run = execution.run
        interpreter = Interpreter(execution.machine.definition, run)
        try:
            output = interpreter.execute()
            execution.output, execution.status = as_json(output), "SUCCEEDED"
            run.history.add("ExecutionSucceeded", len(run.history.events), {"output": execution.output})
        except Aborted:
            execution.status = "ABORTED"
            run.history.add("ExecutionAborted", len(run.history.events),
                            {"error": execution.error or "", "cause": execution.cause or ""})
        except StatesError as error:
            execution.status, execution.error, execution.cause = "FAILED", error.error, error.cause
            run.history.add("ExecutionFailed", len(run.history.events), {"error": error.error, "cause": error.cause})
        except Exception as exc:  # an interpreter bug must still end the execution, visibly
            logger.exception("execution %s crashed in the local runner", execution.arn)
            execution.status, execution.error, execution.cause = "FAILED", "States.Runtime", repr(exc)
            run.history.add("ExecutionFailed", len(run.history.events), {"error": "States.Runtime",
                                                                         "cause": repr(exc)})
        execution.stop_time = now_ms()
        execution.done.set()
        self._status_event(execution)

    def execution(self, arn: str) -> Execution:
        with self._lock:
            execution = self.executions.get(arn)
        if execution is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return execution

    def stop(self, arn: str, error: str | None = None, cause: str | None = None) -> Execution:
        execution = self.execution(arn)
        if execution.status == "RUNNING":
            execution.error, execution.cause = error, cause
            execution.run.stop.set()
            execution.done.wait(30)
        return execution

    def send_task_result(self, token: str, ok: bool, value: Any) -> None:
        waiter = self.tasks.tokens.get(token)
        if waiter is None:
            raise ApiError("TaskDoesNotExist", "Task Does Not Exist (the token is unknown or its task has ended)")
        waiter.complete(ok, value)

    def heartbeat(self, token: str) -> None:
        waiter = self.tasks.tokens.get(token)
        if waiter is None:
            raise ApiError("TaskDoesNotExist", "Task Does Not Exist (the token is unknown or its task has ended)")
        waiter.heartbeat()

    def run_child(self, params: Any, trace_header: str | None, output_as_json: bool) -> dict[str, Any]:
        """`states:startExecution.sync` (`.sync:2` when `output_as_json`): run a child execution to its end."""
        if not isinstance(params, dict) or "StateMachineArn" not in params:
            raise StatesError("States.TaskFailed", "states:startExecution needs Parameters with StateMachineArn")
        child_input = params.get("Input", {})
        text = child_input if isinstance(child_input, str) else as_json(child_input)
        try:
            child = self.start(str(params["StateMachineArn"]), params.get("Name"), text, trace_header)
        except ApiError as exc:
            raise StatesError(f"StepFunctions.{exc.code}", exc.message) from None
        child.done.wait()
        described = child.describe()
        if output_as_json and child.output is not None:
            described["Output"] = json.loads(child.output)
        elif child.output is not None:
            described["Output"] = child.output
        described.pop("output", None)
        if child.status != "SUCCEEDED":
            raise StatesError("States.TaskFailed", as_json(described))
        return {key[:1].upper() + key[1:]: value for key, value in described.items()}

    def shutdown(self) -> None:
        """Stop every running execution (the local cloud is stopping)."""
        with self._lock:
            running = [e for e in self.executions.values() if e.status == "RUNNING"]
        for execution in running:
            execution.run.stop.set()
        self._events.put(None)

    def _status_event(self, execution: Execution) -> None:
        described = execution.describe()
        detail = {key: described.get(key) for key in ("executionArn", "stateMachineArn", "name", "status", "input",
                                                      "output", "error", "cause")}
        detail["startDate"] = int(execution.start * 1000)
        detail["stopDate"] = int(execution.stop_time * 1000) if execution.stop_time else None
        detail["inputDetails"] = {"included": True}
        detail["outputDetails"] = {"included": True} if execution.output is not None else None
        self._events.put({"Source": "aws.states", "DetailType": "Step Functions Execution Status Change",
                          "Resources": [execution.arn], "Detail": json.dumps(detail), "EventBusName": "default"})

    def _send_events(self) -> None:
        while (entry := self._events.get()) is not None:
            try:
                self._client("events").put_events(Entries=[entry])
            except Exception as exc:  # moto gone (shutting down): the execution itself is unaffected
                logger.debug("status change event for %s not sent: %s", entry["Resources"][0], exc)
