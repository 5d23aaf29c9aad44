"""States errors: what a state fails with, and how Retry/Catch `ErrorEquals` match it."""

from __future__ import annotations

from collections.abc import Iterable

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
RUNTIME = "States.Runtime"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
NO_CHOICE = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
PARAMETER_PATH = "States.ParameterPathFailure"
RESULT_PATH = "States.ResultPathMatchFailure"
ITEM_SELECTOR = "States.ItemSelectorFailure"
BRANCH_FAILED = "States.BranchFailed"
# Errors States.ALL does not catch (AWS: "States.ALL ... does not match States.Runtime").
_UNCATCHABLE_BY_ALL = frozenset({RUNTIME, "States.DataLimitExceeded"})


class StatesError(Exception):
    """A state failed with `error` (a name Retry/Catch match) and `cause` (free text)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause

    def as_output(self) -> dict[str, str]:
        return {"Error": self.error, "Cause": self.cause}


def matches(error: str, error_equals: Iterable[str]) -> bool:
    """Whether a Retrier's or Catcher's `ErrorEquals` list covers `error`."""
    for name in error_equals:
        if name == error:
            return True
        if name == ALL and error not in _UNCATCHABLE_BY_ALL:
            return True
        if name == TASK_FAILED and not error.startswith("States."):  # a task's own error (e.g. Lambda's)
            return True
    return False
