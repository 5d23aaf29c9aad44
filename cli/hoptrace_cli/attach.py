"""`hoptrace attach`: trace existing Python functions without touching their code.

For each function: add the hoptrace layer version, redirect the handler (`Handler` becomes
`hoptrace.handler.handler`, the old one moves to `HOPTRACE_HANDLER`) or, with `--mode exec-wrapper`,
set `AWS_LAMBDA_EXEC_WRAPPER=/opt/hoptrace-exec-wrapper`, and subscribe the function's log group to
the collector. What changed is recorded in `hoptrace:*` tags so `hoptrace detach` can undo exactly
that. Attaching twice changes nothing the second time; `--dry-run` shows the change and stops.

    hoptrace attach --function orders --function payments \\
        --layer-arn arn:aws:lambda:eu-west-1:123456789012:layer:hoptrace-py312-arm64:3 \\
        --collector-arn arn:aws:lambda:eu-west-1:123456789012:function:hoptrace-collector --dry-run
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import ClientError

from hoptrace_cli.attachment import LAYER_ARN, MODES, AttachError, AttachOptions, FunctionState, Plan, plan_attach
from hoptrace_cli.attachment_aws import (
    COLLECTOR_SERVICES,
    PERMISSION_STATEMENT,
    Clients,
    add_target_arguments,
    apply_attach,
    explain,
    permission_present,
    read_filters,
    read_state,
    run_for_each,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layer-arn", required=True, help="the hoptrace layer version ARN to add")
    parser.add_argument("--mode", choices=MODES, default="handler",
                        help="handler: redirect Handler via HOPTRACE_HANDLER (default); "
                             "exec-wrapper: set AWS_LAMBDA_EXEC_WRAPPER, keep Handler")
    parser.add_argument("--collector-arn", help="subscribe each function's log group to this collector "
                                                "(a Lambda function, Kinesis stream or Firehose stream)")
    parser.add_argument("--collector-role-arn", help="role CloudWatch Logs assumes to write to a Kinesis/Firehose "
                                                     "collector (not needed for a Lambda collector)")
    add_target_arguments(parser, __doc__)


def run(args: argparse.Namespace) -> int:
    if not LAYER_ARN.match(args.layer_arn):
        print(f"hoptrace attach: --layer-arn {args.layer_arn!r} is not a layer version ARN "
              "(arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)", file=sys.stderr)
        return 2
    if args.collector_arn and _service(args.collector_arn) not in COLLECTOR_SERVICES:
        print(f"hoptrace attach: --collector-arn {args.collector_arn!r} must be the ARN of a Lambda function, Kinesis "
              "stream or Firehose stream (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", file=sys.stderr)
        return 2
    if args.collector_arn and _service(args.collector_arn) != "lambda" and not args.collector_role_arn:
        print("hoptrace attach: a Kinesis or Firehose --collector-arn needs --collector-role-arn", file=sys.stderr)
        return 2
    options: list[AttachOptions] = []

    def prepare(clients: Clients) -> None:
        options.append(_options(clients, args))

    def plan_for(clients: Clients, name: str) -> tuple[FunctionState, Plan]:
        state = read_state(clients, name)
        if args.collector_arn:
            read_filters(clients, state)
        return state, plan_attach(state, options[0])

    def apply(clients: Clients, state: FunctionState, plan: Plan) -> None:
        apply_attach(clients, state, plan, args.collector_role_arn)

    return run_for_each(args, "attach", plan_for, apply, prepare)


def _options(clients: Clients, args: argparse.Namespace) -> AttachOptions:
    """The layer's declared runtimes/architectures (so a python3.12-arm64 build is never attached to an
    x86_64 function), and a note when the collector still lacks the permission attach would add."""
    runtimes: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    try:
        layer_arn, version = args.layer_arn.rsplit(":", 1)
        layer = clients.lambda_.get_layer_version(LayerName=layer_arn, VersionNumber=int(version))
        if "LayerVersionArn" not in layer:  # defensive: a stand-in may answer an unknown version with nothing
            raise AttachError(f"layer version not found: {args.layer_arn} (check --layer-arn and --region)")
        runtimes = tuple(layer.get("CompatibleRuntimes") or ())
        architectures = tuple(layer.get("CompatibleArchitectures") or ())
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise
        print(f"note: cannot read the layer version ({explain(error)}); its runtime/architecture is not checked")
    if args.dry_run and args.collector_arn and _service(args.collector_arn) == "lambda":
        try:
            if not permission_present(clients, args.collector_arn):
                print(f"collector {args.collector_arn}: would allow logs.amazonaws.com to invoke it for "
                      f"/aws/lambda/* log groups (statement {PERMISSION_STATEMENT})")
        except ClientError as error:
            print(f"note: cannot read the collector's policy ({explain(error)})")
    return AttachOptions(args.layer_arn, args.mode, args.collector_arn, runtimes, architectures)


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 5 and parts[0] == "arn" else ""
