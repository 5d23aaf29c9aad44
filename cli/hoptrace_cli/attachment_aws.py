"""The AWS side of `hoptrace attach` / `hoptrace detach`: pick the functions, read their state, apply a
plan in a safe order, and turn AWS errors into messages that name the function.

Order matters because any step can fail (throttling, a missing permission): attach writes its
`hoptrace:*` tags first, so a detach can always undo what got done; detach removes them last, so a
failed detach can simply be run again. Each configuration update is followed by a wait until Lambda
reports it finished, since a second update during one in progress is refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from hoptrace_cli import errors
from hoptrace_cli.attachment import (
    FILTER_NAME,
    FILTER_PATTERN,
    TAG_FILTER,
    AttachError,
    FunctionState,
    Plan,
    render,
)

PERMISSION_STATEMENT = "hoptrace-cloudwatch-logs"
COLLECTOR_SERVICES = ("lambda", "kinesis", "firehose")  # what a subscription filter can deliver to
WAITER_CONFIG = {"Delay": 2, "MaxAttempts": 150}


@dataclass
class Clients:
    lambda_: Any
    logs: Any
    permitted: set[str] = field(default_factory=set)  # collectors whose invoke permission is known to be there

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Clients:
        session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
        return cls(session.client("lambda", endpoint_url=args.endpoint_url),
                   session.client("logs", endpoint_url=args.endpoint_url))


def add_target_arguments(parser: argparse.ArgumentParser, description: str | None) -> None:
    """Which functions, where, and whether to change anything: shared by attach and detach."""
    parser.description = description
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the docstring's example as written
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="function name or ARN (repeatable)")
    parser.add_argument("--all-with-tag", action="append", default=[], metavar="KEY=VALUE",
                        help="every function with this tag (repeatable: all must match)")
    parser.add_argument("--dry-run", action="store_true", help="print the planned change per function; change nothing")
    parser.add_argument("--region", help="AWS region (default: from the AWS environment/profile)")
    parser.add_argument("--profile", help="AWS profile (default: the AWS environment's)")
    parser.add_argument("--endpoint-url", help="AWS endpoint, e.g. a moto server for tests")


def run_for_each(args: argparse.Namespace, command: str,
                 plan_for: Callable[[Clients, str], tuple[FunctionState, Plan]],
                 apply: Callable[[Clients, FunctionState, Plan], None],
                 prepare: Callable[[Clients], None] | None = None) -> int:
    """Plan, print and (unless --dry-run) apply the change for every selected function. A function
    that fails is reported and the others go on; the exit code is 1 if any failed. `prepare` runs
    once before: what fails there (a wrong layer ARN) concerns every function, so nothing is tried."""

    if not args.function and not args.all_with_tag:
        print(f"hoptrace {command}: name functions with --function NAME or --all-with-tag KEY=VALUE",
              file=sys.stderr)
        return 2
    try:
        clients = Clients.from_args(args)
        if prepare:
            prepare(clients)
        names = select_functions(clients, args.function, args.all_with_tag)
    except (AttachError, ClientError, BotoCoreError, ValueError) as error:
        print(f"hoptrace {command}: {explain(error)}", file=sys.stderr)
        return 2
    if not names:
        print(f"hoptrace {command}: no function matched {' '.join(args.all_with_tag)}")
        return 0
    failed = 0
    for name in names:
        applying = False
        try:
            state, plan = plan_for(clients, name)
            print(render(plan, state, args.dry_run), flush=True)
            if not plan.empty and not args.dry_run:
                applying = True
                apply(clients, state, plan)
        except (NoCredentialsError, NoRegionError) as error:  # the same for every function: stop at the first
            print(f"hoptrace {command}: {explain(error)}", file=sys.stderr)
            return 2
        except (AttachError, ClientError, BotoCoreError) as error:
            failed += 1
            partly = (f" — possibly partly done: run `hoptrace {command}` again to finish"
                      + (" or `hoptrace detach` to undo" if command == "attach" else "")) if applying else ""
            print(f"{name}: FAILED: {explain(error)}{partly}", file=sys.stderr, flush=True)
    if failed:
        print(f"hoptrace {command}: {failed} of {len(names)} function(s) failed", file=sys.stderr)
    return 1 if failed else 0


def select_functions(clients: Clients, names: list[str], tag_filters: list[str]) -> list[str]:
    """Named functions first, then those whose tags match every KEY=VALUE, each once."""
    wanted: dict[str, str] = {}
    for item in tag_filters:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--all-with-tag {item!r} must look like KEY=VALUE (e.g. team=payments)")
        wanted[key] = value
    selected = list(dict.fromkeys(names))
    if wanted:
        for page in clients.lambda_.get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                tags = clients.lambda_.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
                if all(tags.get(key) == value for key, value in wanted.items()) \
                        and function["FunctionName"] not in selected:
                    selected.append(function["FunctionName"])
    return selected


def read_state(clients: Clients, name: str) -> FunctionState:
    config = clients.lambda_.get_function_configuration(FunctionName=name)
    config.pop("ResponseMetadata", None)
    tags = clients.lambda_.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
    return FunctionState(config, tags)


def read_filters(clients: Clients, state: FunctionState) -> None:
    """Only when needed: it costs a call and the logs:DescribeSubscriptionFilters permission."""
    try:
        state.filters = clients.logs.describe_subscription_filters(logGroupName=state.log_group)[
            "subscriptionFilters"]
    except clients.logs.exceptions.ResourceNotFoundException:
        state.filters = None  # no log group yet: Lambda makes it at the first invocation, attach makes it now


def apply_attach(clients: Clients, state: FunctionState, plan: Plan, role_arn: str | None = None) -> None:
    _wait_until_ready(clients, state)
    if plan.tags_set:
        clients.lambda_.tag_resource(Resource=state.config["FunctionArn"], Tags=plan.tags_set)
    _update_configuration(clients, state, plan)
    if plan.put_filter:
        if plan.put_filter.split(":")[2] == "lambda":
            ensure_logs_may_invoke(clients, plan.put_filter)
        if plan.create_log_group:
            try:
                clients.logs.create_log_group(logGroupName=plan.log_group)
            except clients.logs.exceptions.ResourceAlreadyExistsException:
                pass  # the function's first invocation made it since we looked
        extra = {"roleArn": role_arn} if role_arn else {}
        clients.logs.put_subscription_filter(logGroupName=plan.log_group, filterName=FILTER_NAME,
                                             filterPattern=FILTER_PATTERN, destinationArn=plan.put_filter, **extra)


def apply_detach(clients: Clients, state: FunctionState, plan: Plan) -> None:
    _wait_until_ready(clients, state)
    _update_configuration(clients, state, plan)
    if plan.delete_filter:
        try:
            clients.logs.delete_subscription_filter(logGroupName=plan.log_group, filterName=state.tags[TAG_FILTER])
        except clients.logs.exceptions.ResourceNotFoundException:
            pass  # already gone: the state we want
    if plan.tags_remove:
        clients.lambda_.untag_resource(Resource=state.config["FunctionArn"], TagKeys=plan.tags_remove)


def _update_configuration(clients: Clients, state: FunctionState, plan: Plan) -> None:
    if not plan.changes_configuration:
        return
    update: dict[str, Any] = {"FunctionName": state.config["FunctionArn"]}
    if plan.handler:
        update["Handler"] = plan.handler[1]
    if plan.layers:
        update["Layers"] = plan.layers[1]
    if plan.variables:
        update["Environment"] = {"Variables": plan.variables[1]}  # the whole map: the API replaces it
    clients.lambda_.update_function_configuration(**update)
    clients.lambda_.get_waiter("function_updated").wait(FunctionName=state.config["FunctionArn"],
                                                        WaiterConfig=WAITER_CONFIG)


def _wait_until_ready(clients: Clients, state: FunctionState) -> None:
    if state.config.get("State") == "Pending":
        clients.lambda_.get_waiter("function_active").wait(FunctionName=state.config["FunctionArn"],
                                                           WaiterConfig=WAITER_CONFIG)
    if state.config.get("LastUpdateStatus") == "InProgress":
        clients.lambda_.get_waiter("function_updated").wait(FunctionName=state.config["FunctionArn"],
                                                            WaiterConfig=WAITER_CONFIG)


def ensure_logs_may_invoke(clients: Clients, collector_arn: str) -> None:
    """Let CloudWatch Logs invoke the collector for the account's /aws/lambda/* log groups, once.

    One statement for every function rather than one per function: a function's resource policy
    is capped at 20 KB, which per-function statements would reach after a few hundred functions.
    Detach leaves it, since other attached functions still rely on it.
    """
    if collector_arn in clients.permitted:
        return
    if not permission_present(clients, collector_arn):
        _, _, _, region, account, *_ = collector_arn.split(":")
        try:
            clients.lambda_.add_permission(
                FunctionName=collector_arn, StatementId=PERMISSION_STATEMENT, Action="lambda:InvokeFunction",
                Principal="logs.amazonaws.com", SourceAccount=account,
                SourceArn=f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/*")
        except clients.lambda_.exceptions.ResourceConflictException:
            pass  # added concurrently: the same statement
        else:
            print(f"collector {collector_arn}: allowed logs.amazonaws.com to invoke it for /aws/lambda/* log groups "
                  f"(statement {PERMISSION_STATEMENT})", flush=True)
    clients.permitted.add(collector_arn)


def permission_present(clients: Clients, collector_arn: str) -> bool:
    try:
        policy = json.loads(clients.lambda_.get_policy(FunctionName=collector_arn)["Policy"])
    except clients.lambda_.exceptions.ResourceNotFoundException:
        return False  # no resource policy at all yet
    return any(statement.get("Sid") == PERMISSION_STATEMENT for statement in policy.get("Statement", []))


def explain(error: Exception) -> str:
    """One line: what failed, in which call, and the likely fix."""
    response = getattr(error, "response", None)
    if not response:
        return errors.describe(error) or str(error)
    code = response.get("Error", {}).get("Code", "")
    message = response.get("Error", {}).get("Message", "")
    operation = getattr(error, "operation_name", "?")
    if code == "ResourceNotFoundException" and operation == "GetFunctionConfiguration":
        return "function not found (check the name and --region)"
    if code == "ResourceNotFoundException" and operation == "GetLayerVersion":
        return f"layer version not found ({message}): check --layer-arn and --region"
    return errors.describe(error) or f"{code} in {operation}: {message}"
