"""Runs one execution of a state machine definition, state by state, writing its history as it goes.

Threads: the execution runs on its own thread; Parallel branches and Map iterations get one each (Map
bounded by MaxConcurrency, 40 when unset, as an inline Map on AWS). Every history event names the event
it follows (`previousEventId`), which is what lets a reader rebuild which state ran inside which.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import choice, errors, payload
from .errors import StatesError
from .history import History, as_json, iso
from .retry import RetryPolicy, catcher_for
from .tasks import TaskRunner, TaskSpec

MAP_DEFAULT_CONCURRENCY = 40


class Aborted(Exception):
    """StopExecution was called."""


@dataclass
class Run:
    """What one execution shares between its states and threads."""

    execution_arn: str
    name: str
    input: Any
    start_time: float
    role_arn: str
    state_machine_arn: str
    state_machine_name: str
    tasks: TaskRunner
    trace_for_state: Callable[[str, float], str | None]
    time_scale: float = 1.0
    history: History = field(default_factory=History)
    stop: threading.Event = field(default_factory=threading.Event)

    def context(self, state: str, entered: float, retry_count: int = 0) -> dict[str, Any]:
        return {
            "Execution": {"Id": self.execution_arn, "Input": self.input, "Name": self.name,
                          "RoleArn": self.role_arn, "StartTime": iso(self.start_time)},
            "State": {"EnteredTime": iso(entered), "Name": state, "RetryCount": retry_count},
            "StateMachine": {"Id": self.state_machine_arn, "Name": self.state_machine_name},
        }

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds * self.time_scale)):
            raise Aborted()


class Interpreter:
    def __init__(self, definition: dict[str, Any], run: Run) -> None:
        self.definition = definition
        self.run = run

    def execute(self) -> Any:
        """The execution's output; raises StatesError (failed) or Aborted (stopped)."""
        try:
            output, _ = self._block(self.definition, self.run.input, 1)
        except _Failed as failed:
            raise failed.error from None
        return output

    # -- blocks and states ---------------------------------------------------------------------------
    def _block(self, block: dict[str, Any], data: Any, previous: int,
               map_item: dict[str, Any] | None = None) -> tuple[Any, int]:
        name: str | None = block["StartAt"]
        while name is not None:
            if self.run.stop.is_set():
                raise Aborted()
            state = block["States"][name]
            data, name, previous = self._state(name, state, data, previous, map_item)
        return data, previous

    def _state(self, name: str, state: dict[str, Any], data: Any, previous: int,
               map_item: dict[str, Any] | None) -> tuple[Any, str | None, int]:
        kind = state["Type"]
        entered_id, entered = self.run.history.add(f"{kind}StateEntered", previous,
                                                   {"name": name, "input": as_json(data)})
        context = self.run.context(name, entered)
        if map_item is not None:
            context["Map"] = {"Item": map_item}
        step = _Step(self, name, state, context, entered_id, entered)
        output, next_state = getattr(step, f"run_{kind.lower()}")(data)
        exit_id, _ = self.run.history.add(f"{kind}StateExited", step.last,
                                          {"name": name, "output": as_json(output)})
        return output, next_state, exit_id


class _Step:
    """One entry into one state: its retries, its catch, the events between Entered and Exited."""

    def __init__(self, interpreter: Interpreter, name: str, state: dict[str, Any], context: dict[str, Any],
                 entered_id: int, entered: float) -> None:
        self.i = interpreter
        self.run = interpreter.run
        self.name, self.state, self.context = name, state, context
        self.entered = entered
        self.last = entered_id

    def add(self, event_type: str, details: dict[str, Any] | None = None) -> int:
        self.last, _ = self.run.history.add(event_type, self.last, details)
        return self.last

    def _next(self) -> str | None:
        return None if self.state.get("End") else self.state.get("Next")

    # -- simple states --------------------------------------------------------------------------------
    def run_pass(self, data: Any) -> tuple[Any, str | None]:
        effective = payload.effective_input(self.state, data, self.context)
        result = self.state.get("Result", effective)
        return payload.state_output({k: v for k, v in self.state.items() if k != "ResultSelector"}, data, result,
                                    self.context), self._next()

    def run_succeed(self, data: Any) -> tuple[Any, str | None]:
        selected = payload.select(self.state.get("InputPath", "$"), data, self.context)
        return payload.select(self.state.get("OutputPath", "$"), selected, self.context), None

    def run_fail(self, data: Any) -> tuple[Any, str | None]:
        error, cause = self.state.get("Error", "States.Fail"), self.state.get("Cause", "")
        if "ErrorPath" in self.state:
            error = payload.render({"v.$": self.state["ErrorPath"]}, data, self.context)["v"]
        if "CausePath" in self.state:
            cause = payload.render({"v.$": self.state["CausePath"]}, data, self.context)["v"]
        raise _Failed(StatesError(str(error), str(cause)), self.last)

    def run_choice(self, data: Any) -> tuple[Any, str | None]:
        selected = payload.select(self.state.get("InputPath", "$"), data, self.context)
        target = next((rule["Next"] for rule in self.state["Choices"]
                       if choice.matches(rule, selected, self.context)), self.state.get("Default"))
        if target is None:
            raise _Failed(StatesError(errors.NO_CHOICE, f"no Choice rule of state {self.name!r} matched and "
                                                        "it has no Default"), self.last)
        return payload.select(self.state.get("OutputPath", "$"), selected, self.context), target

    def run_wait(self, data: Any) -> tuple[Any, str | None]:
        selected = payload.select(self.state.get("InputPath", "$"), data, self.context)
        self.run.sleep(self._wait_seconds(selected))
        return payload.select(self.state.get("OutputPath", "$"), selected, self.context), self._next()

    def _wait_seconds(self, data: Any) -> float:
        state = self.state
        if "Seconds" in state:
            return float(state["Seconds"])
        if "SecondsPath" in state:
            return float(payload.render({"v.$": state["SecondsPath"]}, data, self.context)["v"])
        stamp = state.get("Timestamp")
        if "TimestampPath" in state:
            stamp = payload.render({"v.$": state["TimestampPath"]}, data, self.context)["v"]
        try:
            return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp() - time.time()
        except ValueError:
            raise StatesError(errors.RUNTIME, f"state {self.name!r}: {stamp!r} is not an ISO 8601 timestamp") \
                from None

    # -- states with retry and catch ----------------------------------------------------------------
    def run_task(self, data: Any) -> tuple[Any, str | None]:
        return self._with_retry(data, self._task_attempt)

    def run_parallel(self, data: Any) -> tuple[Any, str | None]:
        return self._with_retry(data, self._parallel_attempt)

    def run_map(self, data: Any) -> tuple[Any, str | None]:
        return self._with_retry(data, self._map_attempt)

    def _with_retry(self, data: Any, attempt: Callable[[Any, Any, int], Any]) -> tuple[Any, str | None]:
        policy = RetryPolicy(self.state.get("Retry"))
        retry_count = 0
        while True:
            try:
                selected = payload.select(self.state.get("InputPath", "$"), data, self.context)
                result = attempt(selected, data, retry_count)
                return payload.state_output(self.state, data, result, self.context), self._next()
            except _Failed as failed:
                self.last = max(self.last, failed.last)
                error = failed.error
            except StatesError as error_:
                error = error_
            delay = policy.next_delay(error.error)
            if delay is not None:
                self.run.sleep(delay)
                retry_count += 1
                continue
            catcher = catcher_for(self.state.get("Catch"), error.error)
            if catcher is None:
                raise _Failed(error, self.last)
            output = payload.paths.set_path(data, catcher.get("ResultPath", "$"), error.as_output())
            return output, catcher["Next"]

    def _task_attempt(self, selected: Any, raw: Any, retry_count: int) -> Any:
        context = dict(self.context, State=dict(self.context["State"], RetryCount=retry_count))
        spec = self.run.tasks.spec(self.state["Resource"])
        token = self.run.tasks.new_token() if spec.wait_for_token else None
        if token:
            context["Task"] = {"Token": token}
        params = payload.render(self.state["Parameters"], selected, context) if "Parameters" in self.state \
            else selected
        trace = self.run.trace_for_state(self.name, self.entered)
        timeout = self._seconds("TimeoutSeconds", selected)
        heartbeat = self._seconds("HeartbeatSeconds", selected)
        if spec.legacy_lambda:
            self.add("LambdaFunctionScheduled", {"resource": spec.resource_arn, "input": as_json(params),
                                                 **({"timeoutInSeconds": int(timeout)} if timeout else {})})
            self.add("LambdaFunctionStarted")
        else:
            scheduled: dict[str, Any] = {"resourceType": spec.resource_type, "resource": spec.resource,
                                         "region": spec.region, "parameters": as_json(params)}
            if timeout:
                scheduled["timeoutInSeconds"] = int(timeout)
            if heartbeat:
                scheduled["heartbeatInSeconds"] = int(heartbeat)
            self.add("TaskScheduled", scheduled)
            self.add("TaskStarted", {"resourceType": spec.resource_type, "resource": spec.resource})
        try:
            result = self._call_task(spec, params, trace, token, timeout, heartbeat)
        except StatesError as error:
            kind = "LambdaFunctionFailed" if spec.legacy_lambda else "TaskFailed"
            if error.error == errors.TIMEOUT:
                kind = "LambdaFunctionTimedOut" if spec.legacy_lambda else "TaskTimedOut"
            details = {"error": error.error, "cause": error.cause}
            if not spec.legacy_lambda:
                details = {"resourceType": spec.resource_type, "resource": spec.resource, **details}
            self.add(kind, details)
            raise
        if spec.legacy_lambda:
            self.add("LambdaFunctionSucceeded", {"output": as_json(result)})
        else:
            self.add("TaskSucceeded", {"resourceType": spec.resource_type, "resource": spec.resource,
                                       "output": as_json(result)})
        return result

    def _call_task(self, spec: TaskSpec, params: Any, trace: str | None, token: str | None,
                   timeout: float | None, heartbeat: float | None) -> Any:
        if token is None:
            if timeout is None:
                return self.run.tasks.call(spec, params, trace)
            pool = ThreadPoolExecutor(1, thread_name_prefix="sfn-task")
            future = pool.submit(self.run.tasks.call, spec, params, trace)
            try:
                return future.result(timeout * self.run.time_scale)
            except FutureTimeout:
                raise StatesError(errors.TIMEOUT, f"the task of state {self.name!r} ran longer than "
                                                  f"TimeoutSeconds ({timeout:g} s)") from None
            finally:
                pool.shutdown(wait=False)  # a timed-out task runs on to its own end, as on AWS
        waiter = self.run.tasks.tokens.register(token)
        try:
            submitted = self.run.tasks.call(spec, params, trace)
            self.add("TaskSubmitted", {"resourceType": spec.resource_type, "resource": spec.resource,
                                       "output": as_json(submitted)})
            return waiter.wait(timeout, heartbeat, self.run.time_scale, self.run.stop)
        finally:
            self.run.tasks.tokens.forget(token)

    def _seconds(self, key: str, data: Any) -> float | None:
        value = self.state.get(key)
        if value is None and f"{key}Path" in self.state:
            value = payload.render({"v.$": self.state[f"{key}Path"]}, data, self.context)["v"]
        return float(value) if value is not None else None

    def _parallel_attempt(self, selected: Any, raw: Any, retry_count: int) -> Any:
        effective = payload.render(self.state["Parameters"], selected, self.context) \
            if "Parameters" in self.state else selected
        started = self.add("ParallelStateStarted")
        branches = self.state["Branches"]
        outcomes: list[Any] = [None] * len(branches)

        def branch(index: int) -> None:
            try:
                outcomes[index] = self.i._block(branches[index], effective, started)
            except (_Failed, Aborted, StatesError) as exc:
                outcomes[index] = exc

        self._run_all(branch, len(branches), len(branches))
        return self._join("ParallelState", outcomes)

    def _map_attempt(self, selected: Any, raw: Any, retry_count: int) -> Any:
        items = payload.select(self.state.get("ItemsPath", "$"), selected, self.context)
        if not isinstance(items, list):
            raise StatesError(errors.RUNTIME, f"state {self.name!r}: ItemsPath "
                                              f"{self.state.get('ItemsPath', '$')!r} must select an array")
        template = self.state.get("ItemSelector", self.state.get("Parameters"))
        processor = self.state.get("ItemProcessor") or self.state["Iterator"]
        self.add("MapStateStarted", {"length": len(items)})
        started = self.last
        outcomes: list[Any] = [None] * len(items)

        def iteration(index: int) -> None:
            item = {"Index": index, "Value": items[index]}
            event_id, _ = self.run.history.add("MapIterationStarted", started, {"name": self.name, "index": index})
            kind, previous = "MapIterationSucceeded", event_id
            try:
                context = dict(self.context, Map={"Item": item})
                value = payload.render(template, selected, context, errors.ITEM_SELECTOR) \
                    if template is not None else items[index]
                outcomes[index] = self.i._block(processor, value, event_id, item)
                previous = outcomes[index][1]
            except (_Failed, Aborted, StatesError) as exc:
                outcomes[index], kind = exc, "MapIterationFailed"
                previous = getattr(exc, "last", event_id)
            self.run.history.add(kind, previous, {"name": self.name, "index": index})

        limit = int(self.state.get("MaxConcurrency") or 0) or MAP_DEFAULT_CONCURRENCY
        self._run_all(iteration, len(items), limit)
        return self._join("MapState", outcomes)

    def _run_all(self, work: Callable[[int], None], count: int, limit: int) -> None:
        if count == 0:
            return
        with ThreadPoolExecutor(max(1, min(count, limit))) as pool:
            list(pool.map(work, range(count)))

    def _join(self, prefix: str, outcomes: list[Any]) -> list[Any]:
        self.last = len(self.run.history.events)
        for outcome in outcomes:
            if isinstance(outcome, Aborted):
                raise outcome
        failure = next((o for o in outcomes if isinstance(o, _Failed | StatesError)), None)
        if failure is not None:
            self.add(f"{prefix}Failed")
            raise failure.error if isinstance(failure, _Failed) else failure
        self.add(f"{prefix}Succeeded")
        return [output for output, _ in outcomes]


class _Failed(Exception):
    """A state failed and nothing caught it; carries the id of its last history event."""

    def __init__(self, error: StatesError, last: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.last = last
