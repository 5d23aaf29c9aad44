"""What `hoptrace attach` and `hoptrace detach` change on a function, decided without touching AWS.

A plan is computed from the function's current configuration and tags, printed as a before → after
diff, and only then applied (or not, with `--dry-run`), so what is shown is what is done.

What attach changed is recorded in the function's own tags (`hoptrace:*`), not in an environment
variable: tags are invisible to the function's code, do not count against the 4 KB that all its
environment variables may take, and can be written before the configuration changes, so a detach
can also clean up an attach that failed half way. Tag values hold 256 characters, more than a
handler (128) or a layer version ARN (140) can take. Detach removes only what the tags say attach
added; anything else on the function stays as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

HANDLER = "hoptrace.handler.handler"
EXEC_WRAPPER = "/opt/hoptrace-exec-wrapper"
HANDLER_VARIABLE = "HOPTRACE_HANDLER"
WRAPPER_VARIABLE = "AWS_LAMBDA_EXEC_WRAPPER"
FILTER_NAME = "hoptrace"
# Every line: span lines, the platform lines that mark cold starts, timeouts and crashes, and the application's
# own log lines, which the collector stores with their invocation (START/END place `print` output).
FILTER_PATTERN = ""
MAX_LAYERS = 5  # Lambda's limit per function
MAX_FILTERS = 2  # CloudWatch Logs' limit of subscription filters per log group
MAX_ENVIRONMENT_BYTES = 4096  # Lambda's limit for all environment variables together
MIN_PYTHON = (3, 11)

TAG_MODE = "hoptrace:mode"
TAG_HANDLER = "hoptrace:original-handler"
TAG_LAYER = "hoptrace:layer"
TAG_FILTER = "hoptrace:subscription-filter"
TAG_PREFIX = "hoptrace:"
MODES = ("handler", "exec-wrapper")
LAYER_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")
TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")


class AttachError(Exception):
    """This function cannot be attached or detached as asked; the message says why and what to do."""


@dataclass(frozen=True)
class AttachOptions:
    layer_arn: str
    mode: str = "handler"
    collector_arn: str | None = None
    layer_runtimes: tuple[str, ...] = ()  # CompatibleRuntimes of the layer version, when known
    layer_architectures: tuple[str, ...] = ()


@dataclass
class FunctionState:
    """What plans are computed from: the function's configuration, its tags, and its log group's
    subscription filters (None when the log group does not exist or was not looked at)."""

    config: dict[str, Any]
    tags: dict[str, str]
    filters: list[dict[str, Any]] | None = None

    @property
    def name(self) -> str:
        return self.config["FunctionName"]

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def layers(self) -> list[str]:
        return [layer["Arn"] for layer in self.config.get("Layers") or []]

    @property
    def variables(self) -> dict[str, str]:
        environment = self.config.get("Environment") or {}
        if environment.get("Error"):
            # Variables encrypted with a key we may not use come back as an error instead: writing
            # the environment back would drop every one of them.
            raise AttachError(f"cannot read its environment variables ({environment['Error'].get('Message')}); "
                              "changing them would drop them all — run with a role allowed to decrypt them")
        return dict(environment.get("Variables") or {})


@dataclass
class Plan:
    """The change to one function. Empty plans carry the reason in `note` ("already attached")."""

    function: str
    action: str  # "attach" | "detach"
    handler: tuple[str, str] | None = None
    layers: tuple[list[str], list[str]] | None = None
    variables: tuple[dict[str, str], dict[str, str]] | None = None
    tags_set: dict[str, str] = field(default_factory=dict)
    tags_remove: list[str] = field(default_factory=list)
    log_group: str = ""
    create_log_group: bool = False
    put_filter: str | None = None  # destination ARN
    delete_filter: bool = False
    note: str = ""
    warnings: list[str] = field(default_factory=list)  # what attach cannot fix but tracing needs

    @property
    def changes_configuration(self) -> bool:
        return bool(self.handler or self.layers or self.variables)

    @property
    def empty(self) -> bool:
        return not (self.changes_configuration or self.tags_set or self.tags_remove or self.create_log_group
                    or self.put_filter or self.delete_filter)


def plan_attach(state: FunctionState, options: AttachOptions) -> Plan:
    """The change that makes `state`'s function traced; AttachError if it cannot be done safely."""
    config, tags = state.config, state.tags
    plan = Plan(state.name, "attach", log_group=state.log_group, warnings=log_level_warnings(state.name, config))
    skipped = _unsupported(config)
    if options.collector_arn and _unqualified(options.collector_arn) == _unqualified(config["FunctionArn"]):
        skipped = ("skipped: this is the collector; subscribing its own log group to itself would make every "
                   "batch it handles invoke it again")
    if skipped:
        plan.note = skipped
        return plan
    _check_layer_fits(config, options)
    attached_mode = tags.get(TAG_MODE)
    if attached_mode and attached_mode != options.mode:
        raise AttachError(f"attached in {attached_mode} mode; run `hoptrace detach` first to switch to {options.mode}")
    variables = state.variables
    if not attached_mode:
        outside = _traced_outside_attach(config, variables)
        if outside:
            plan.note = outside
            return plan
        _check_no_conflict(config, variables, options.mode)

    wanted_tags = {TAG_MODE: options.mode, TAG_LAYER: options.layer_arn}
    new_variables = dict(variables)
    if options.mode == "handler":
        original = tags.get(TAG_HANDLER) or config["Handler"]
        wanted_tags[TAG_HANDLER] = original
        new_variables[HANDLER_VARIABLE] = variables.get(HANDLER_VARIABLE) or original
        if config["Handler"] != HANDLER:
            plan.handler = (config["Handler"], HANDLER)
    else:
        new_variables[WRAPPER_VARIABLE] = EXEC_WRAPPER
    if new_variables != variables:
        _check_environment_size(new_variables)
        plan.variables = (variables, new_variables)

    layers = _layers_with(state.layers, options.layer_arn, tags.get(TAG_LAYER))
    if layers != state.layers:
        plan.layers = (state.layers, layers)
    if options.collector_arn:
        _plan_subscription(plan, state, options.collector_arn, wanted_tags)
    if TAG_FILTER in tags:
        wanted_tags[TAG_FILTER] = tags[TAG_FILTER]
    for key, value in wanted_tags.items():
        if not TAG_VALUE.match(value):
            raise AttachError(f"cannot record {key}={value!r} in a tag (256 characters of letters, digits, "
                              "spaces and _.:/=+-@ at most), so detach could not restore it")
    plan.tags_set = {key: value for key, value in wanted_tags.items() if tags.get(key) != value}
    if plan.empty:
        plan.note = "already attached"
    return plan


def plan_detach(state: FunctionState) -> Plan:
    """The change that removes exactly what attach added, as its tags record it."""
    config, tags = state.config, state.tags
    plan = Plan(state.name, "detach", log_group=state.log_group)
    recorded = sorted(key for key in tags if key.startswith(TAG_PREFIX))
    if not recorded:
        plan.note = "not attached by hoptrace attach (no hoptrace:* tags): nothing to undo"
        return plan
    variables = state.variables
    new_variables = dict(variables)
    mode = tags.get(TAG_MODE, "handler")
    if mode == "handler":
        # HOPTRACE_HANDLER is what actually runs: if someone changed it since, that is the handler to keep.
        original = variables.get(HANDLER_VARIABLE) or tags.get(TAG_HANDLER)
        if config.get("Handler") == HANDLER and original:
            plan.handler = (HANDLER, original)
        new_variables.pop(HANDLER_VARIABLE, None)
    elif variables.get(WRAPPER_VARIABLE) == EXEC_WRAPPER:
        new_variables.pop(WRAPPER_VARIABLE)
    if new_variables != variables:
        plan.variables = (variables, new_variables)
    layer = tags.get(TAG_LAYER)
    if layer in state.layers:
        plan.layers = (state.layers, [arn for arn in state.layers if arn != layer])
    if TAG_FILTER in tags and any(f.get("filterName") == tags[TAG_FILTER] for f in state.filters or []):
        plan.delete_filter = True
    plan.tags_remove = recorded
    return plan


def _unsupported(config: dict[str, Any]) -> str:
    if config.get("PackageType") == "Image":
        return "skipped: a container image function cannot use layers (install hoptrace in the image instead)"
    runtime = config.get("Runtime") or ""
    if not runtime.startswith("python"):
        return f"skipped: runtime {runtime or 'unknown'} is not Python (hoptrace traces Python functions)"
    version = tuple(int(x) for x in runtime.removeprefix("python").split(".") if x.isdigit())
    if version < MIN_PYTHON:
        return f"skipped: {runtime} is too old (hoptrace needs python{'.'.join(map(str, MIN_PYTHON))} or newer)"
    return ""


def _unqualified(function_arn: str) -> str:
    return ":".join(function_arn.split(":")[:7])  # without a :version or :alias qualifier


def _check_layer_fits(config: dict[str, Any], options: AttachOptions) -> None:
    runtime, arch = config.get("Runtime"), (config.get("Architectures") or ["x86_64"])[0]
    if options.layer_runtimes and runtime not in options.layer_runtimes:
        raise AttachError(f"the layer is built for {', '.join(options.layer_runtimes)}, the function runs {runtime}: "
                          "attach the layer version built for its runtime")
    if options.layer_architectures and arch not in options.layer_architectures:
        raise AttachError(f"the layer is built for {', '.join(options.layer_architectures)}, the function runs on "
                          f"{arch}: attach the layer version built for its architecture")


def _traced_outside_attach(config: dict[str, Any], variables: dict[str, str]) -> str:
    if config.get("Handler") == HANDLER or variables.get(WRAPPER_VARIABLE) == EXEC_WRAPPER:
        return ("skipped: already traced by hoptrace, set up without `hoptrace attach` (no hoptrace:* tags), "
                "so there would be nothing to restore on detach")
    return ""


def _check_no_conflict(config: dict[str, Any], variables: dict[str, str], mode: str) -> None:
    if mode == "exec-wrapper" and variables.get(WRAPPER_VARIABLE):
        raise AttachError(f"{WRAPPER_VARIABLE} is already {variables[WRAPPER_VARIABLE]!r} (another wrapper); "
                          "use --mode handler instead")
    if mode == "handler" and HANDLER_VARIABLE in variables:
        raise AttachError(f"{HANDLER_VARIABLE} is already set ({variables[HANDLER_VARIABLE]!r}) while the handler "
                          f"is {config.get('Handler')!r}; remove the variable, then attach")


def _check_environment_size(variables: dict[str, str]) -> None:
    size = sum(len(key.encode()) + len(value.encode()) for key, value in variables.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise AttachError(f"its environment variables would take {size} bytes, over Lambda's 4 KB limit; "
                          "use --mode exec-wrapper (shorter) or free some space")


def _layers_with(layers: list[str], arn: str, previous: str | None) -> list[str]:
    """The function's layers with ours added at the end (Lambda merges layers in order, so the
    others keep their precedence), or in place of the version a previous attach added."""
    if arn in layers:
        return layers
    if previous in layers:
        return [arn if existing == previous else existing for existing in layers]
    name = arn.rsplit(":", 1)[0]
    same = [existing for existing in layers if existing.rsplit(":", 1)[0] == name]
    if same:
        raise AttachError(f"it already has {same[0]}, another version of this layer not added by hoptrace attach "
                          "(Lambda refuses two versions of one layer): remove it first, or attach that version")
    if len(layers) >= MAX_LAYERS:
        raise AttachError(f"it already has {len(layers)} layers, Lambda's maximum of {MAX_LAYERS}: remove or merge "
                          "one, or bake hoptrace into the function's package (hoptrace.trace decorator)")
    return [*layers, arn]


def _plan_subscription(plan: Plan, state: FunctionState, collector_arn: str, wanted_tags: dict[str, str]) -> None:
    ours = state.tags.get(TAG_FILTER)
    if state.filters is None:
        plan.create_log_group = True
        plan.put_filter = collector_arn
        wanted_tags[TAG_FILTER] = FILTER_NAME
        return
    existing = next((f for f in state.filters if f.get("filterName") == FILTER_NAME), None)
    if existing is not None:
        if existing.get("destinationArn") == collector_arn and existing.get("filterPattern") == FILTER_PATTERN:
            return  # whoever made it, it already sends what we want
        if ours != FILTER_NAME:
            raise AttachError(f"log group {state.log_group} already has a subscription filter {FILTER_NAME!r} to "
                              f"{existing.get('destinationArn')} that attach did not create; delete it or leave out "
                              "--collector-arn")
    elif len(state.filters) >= MAX_FILTERS:
        raise AttachError(f"log group {state.log_group} already has {len(state.filters)} subscription filters, "
                          f"CloudWatch Logs' maximum of {MAX_FILTERS}; use an account-level subscription instead")
    plan.put_filter = collector_arn
    wanted_tags[TAG_FILTER] = FILTER_NAME


def log_level_warnings(name: str, config: dict[str, Any]) -> list[str]:
    """A `SystemLogLevel` of WARN or higher (JSON log format) drops Lambda's platform records: no cold
    starts, timeouts or crashes reach the collector, and `print` lines cannot be placed in an invocation."""
    logging_config = config.get("LoggingConfig") or {}
    level = str(logging_config.get("SystemLogLevel", "INFO")).upper()
    if logging_config.get("LogFormat") != "JSON" or level in ("DEBUG", "INFO"):
        return []
    return [f"LoggingConfig.SystemLogLevel is {level}: Lambda drops its platform records (start, report), so "
            "cold starts, timeouts and crashes are not seen and print lines cannot be tied to an invocation; "
            f"fix: aws lambda update-function-configuration --function-name {name} "
            "--logging-config LogFormat=JSON,SystemLogLevel=INFO"]


def render(plan: Plan, state: FunctionState, dry_run: bool) -> str:
    """The plan as a before → after diff, one line per thing that changes (and what attach cannot fix)."""
    warnings = "".join(f"\n  warning: {text}" for text in plan.warnings)
    return _render(plan, state, dry_run) + warnings


def _render(plan: Plan, state: FunctionState, dry_run: bool) -> str:
    config = state.config
    where = f"{plan.function} ({config.get('Runtime') or config.get('PackageType', '?')}, " \
            f"{(config.get('Architectures') or ['x86_64'])[0]})"
    if plan.empty:
        return f"{where}: {plan.note}"
    verb = {"attach": ("would attach", "attached"), "detach": ("would detach", "detached")}[plan.action][not dry_run]
    lines = [f"{where}: {verb}" + (f" ({plan.note})" if plan.note else "")]
    if plan.handler:
        lines.append(f"  Handler      {plan.handler[0]} → {plan.handler[1]}")
    if plan.layers:
        before, after = plan.layers
        changes = [f"+ {arn}" for arn in after if arn not in before]
        changes += [f"- {arn}" for arn in before if arn not in after]
        lines.append(f"  Layers       {', '.join(changes)}  ({len(before)} → {len(after)} of {MAX_LAYERS})")
    if plan.variables:
        was, now = plan.variables
        changes = [f"+ {key}={now[key]}" for key in now if key not in was]
        changes += [f"~ {key}: {was[key]} → {now[key]}" for key in now if key in was and was[key] != now[key]]
        changes += [f"- {key}" for key in was if key not in now]
        kept = sorted(key for key in was if key in now and was[key] == now[key])
        lines.append(f"  Environment  {', '.join(changes)}" + (f"  (kept: {', '.join(kept)})" if kept else ""))
    if plan.create_log_group or plan.put_filter or plan.delete_filter:
        changes = ["create" if plan.create_log_group else ""]
        if plan.put_filter:
            changes.append(f"+ subscription filter {FILTER_NAME!r} → {plan.put_filter}")
        if plan.delete_filter:
            changes.append(f"- subscription filter {state.tags.get(TAG_FILTER)!r}")
        lines.append(f"  Log group    {plan.log_group}: {'; '.join(c for c in changes if c)}")
    if plan.tags_set or plan.tags_remove:
        changes = [f"+ {key}={value}" for key, value in sorted(plan.tags_set.items())]
        changes += [f"- {key}" for key in plan.tags_remove]
        lines.append(f"  Tags         {', '.join(changes)}")
    return "\n".join(lines)
