"""`hoptrace detach`: undo exactly what `hoptrace attach` changed on functions.

Reads the `hoptrace:*` tags attach left on each function and reverses those changes only: the
handler comes back, the hoptrace layer and the variable attach added go, the subscription filter
attach created is deleted, and the tags are removed. Other layers, variables and tags stay as they
are. The collector's invoke permission and a log group attach created are left in place: the first
is shared by every attached function, the second holds the function's logs.

    hoptrace detach --all-with-tag team=payments --dry-run
"""

from __future__ import annotations

import argparse

from hoptrace_cli.attachment import TAG_FILTER, FunctionState, Plan, plan_detach
from hoptrace_cli.attachment_aws import (
    Clients,
    add_target_arguments,
    apply_detach,
    read_filters,
    read_state,
    run_for_each,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser, __doc__)


def run(args: argparse.Namespace) -> int:
    def plan_for(clients: Clients, name: str) -> tuple[FunctionState, Plan]:
        state = read_state(clients, name)
        if TAG_FILTER in state.tags:  # only then is there a filter of ours to look for
            read_filters(clients, state)
        return state, plan_detach(state)

    return run_for_each(args, "detach", plan_for, apply_detach)
