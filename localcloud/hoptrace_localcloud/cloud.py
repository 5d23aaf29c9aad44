"""`LocalCloud`: a SAM template running on this machine — moto for managed services, worker processes for
functions, and the triggers between them. Start/stop order lives here; each part lives in its module."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from .apis import HTTP_API, REST_API
from .apiserver import ApiServer
from .asyncinvoke import AsyncInvoker, Destinations
from .build import DEFAULT_CACHE, Builder, BuildError
from .config import LocalCloudConfig
from .diagnostics import Diagnostics
from .functions import FunctionSpec, LayerSpec, function_spec, layer_spec, write_inline_code
from .hooks import HookServer
from .logmirror import LogMirror
from .logstore import LogEvent, LogStore
from .logsubscriptions import LogRouter
from .motoserver import DUMMY_CREDENTIALS, MotoServer, client_factory
from .pool import FunctionPool, Invocation
from .provisioning import Provisioner
from .resources import ResourceInfo, build_scope, creation_order, included, resolve_properties
from .samtranslate import DEFAULT_CACHE as TRANSLATION_CACHE
from .samtranslate import Translation, TranslationError, local_artifact, origin_of, translate
from .schedules import Scheduler
from .statemachines import TYPES as STATE_MACHINE_TYPES
from .statemachines import StateMachines
from .stepfunctions import api as stepfunctions_api
from .stepfunctions.service import Execution, StepFunctionsService
from .stepfunctions.tasks import TaskRunner
from .template import Template, TemplateError, load_template
from .triggers import TriggerSummary, TriggerWiring

FUNCTION_TYPE = "AWS::Lambda::Function"
LAYER_TYPE = "AWS::Lambda::LayerVersion"
API_TYPES = (REST_API, HTTP_API)
# Function properties never resolved as a whole: permissions, tags, the code location (mapped back to a local
# directory) and the environment (resolved variable by variable).
_UNRESOLVED_FUNCTION_PROPS = ("Role", "Tags", "Code", "Environment")


class LocalCloud:
    """Use as `with LocalCloud("template.yaml") as cloud:`; everything started is stopped on exit."""

    def __init__(self, template_path: str | Path, config: LocalCloudConfig | None = None, **overrides: Any) -> None:
        self.config = dataclasses.replace(config or LocalCloudConfig(), **overrides)
        self.template_path = Path(template_path)
        self.diagnostics = Diagnostics()
        self.logs = LogStore()
        self.resources: dict[str, ResourceInfo] = {}
        self.functions: dict[str, FunctionPool] = {}
        self.summary = TriggerSummary()
        self._moto = MotoServer()
        self._stoppables: list[Any] = []
        self._stop_reaper = threading.Event()
        self._api: ApiServer | None = None
        self._invoker: AsyncInvoker | None = None
        self._client: Any = None
        self._inline_root: Path | None = None
        self._builder: Builder | None = None
        self.translation = Translation({})
        self._hooks: HookServer | None = None
        self.stepfunctions: StepFunctionsService | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        cfg = self.config
        source = load_template(self.template_path, cfg.parameters)
        self._hooks = HookServer()
        self._stoppables.append(self._hooks)
        self._moto = MotoServer(hooks=self._hooks.targets(stepfunctions_api.TARGETS))
        # The moto server starts (a subprocess) while SAM translates the template here.
        self._moto.launch()
        try:
            cache = (TRANSLATION_CACHE if cfg.translation_cache is None
                     else Path(cfg.translation_cache) if cfg.translation_cache else None)
            self.translation = translate(source.document, source.parameters, source.base_dir, cfg.region, cache)
        except TranslationError as exc:
            raise TemplateError(f"{self.template_path}: SAM cannot translate the template: {exc}") from None
        self.diagnostics.origin = lambda lid: origin_of(self.translation, lid)
        document = self.translation.document
        template = Template(path=source.path, parameters=source.parameters,
                            resources=document.get("Resources") or {}, conditions=document.get("Conditions") or {},
                            outputs=document.get("Outputs") or {}, document=document)
        for res in template.resources.values():
            res["Properties"] = res.get("Properties") or {}
        self.endpoint_url = self._moto.wait_ready()
        self._client = client_factory(self.endpoint_url, cfg.region)
        self.stepfunctions = StepFunctionsService(
            cfg.region, cfg.account_id, TaskRunner(cfg.region, self._invoke_task, self._client), self._client,
            cfg.state_machine_time_scale)
        self.stepfunctions.tasks.start_child = self.stepfunctions.run_child
        for target, handler in stepfunctions_api.handlers(self.stepfunctions).items():
            self._hooks.register(target, handler)
        state_machines = StateMachines(self.stepfunctions, self.diagnostics, template.base_dir, cfg.stack_name,
                                       self._client)
        # Bound (not yet serving) before anything is resolved, so `!GetAtt <Api>.ApiEndpoint` has its URL.
        self._api = ApiServer(cfg.account_id, cfg.api_port)
        self._stoppables.append(self._api)
        provisioner = Provisioner(self._client, cfg.region, cfg.account_id, cfg.stack_name, self.diagnostics)
        scope = build_scope(template, cfg.region, cfg.account_id, cfg.stack_name)
        scope.refs, scope.attributes = {}, {}
        scope.attribute_fallback = lambda lid, attr: (  # IAM roles (SAM generates them) are not created here
            f"arn:aws:iam::{cfg.account_id}:role/{lid}" if attr == "Arn" else None)
        active = {lid: res for lid, res in template.resources.items() if included(template, res, scope)}
        template.resources = active
        layers = self._register_compute(template, provisioner, scope)
        for lid in creation_order(template, set(self.resources)):
            res = active[lid]
            props = resolve_properties(lid, res["Properties"], scope, self.diagnostics)
            if res["Type"] in STATE_MACHINE_TYPES:
                info = state_machines.create(lid, res["Type"], props)
            else:
                info = provisioner.create(lid, res["Type"], props)
            if info is not None:
                info.properties = props
                self._register(scope, info)
        for original, generated in self.translation.renamed.items():
            if generated in self.resources:
                self.resources[original] = self.resources[generated]
        specs = self._function_specs(template, scope, layers)
        for spec in specs:
            self.functions[spec.logical_id] = FunctionPool(spec, self.logs, self.endpoint_url, cfg.region,
                                                           DUMMY_CREDENTIALS, cfg.max_concurrency,
                                                           enforce_memory=cfg.enforce_memory_limit)
        self._start_services(template, scope, provisioner, state_machines)

    def _register(self, scope: Any, info: ResourceInfo) -> None:
        self.resources[info.logical_id] = info
        scope.refs[info.logical_id] = info.ref
        scope.attributes[info.logical_id] = info.attributes

    def _register_compute(self, template: Template, p: Provisioner, scope: Any) -> dict[str, LayerSpec]:
        """Functions, layers and APIs have no moto resource; their names and ARNs come first so anything
        may reference them."""
        layers: dict[str, LayerSpec] = {}
        for lid, res in template.resources.items():
            rtype, props = res["Type"], res["Properties"]
            if rtype == FUNCTION_TYPE:
                name = str(resolve_properties(lid, props, scope, self.diagnostics, ("FunctionName",)).get(
                    "FunctionName") or f"{p.stack_name}-{lid}")[:64]
                arn = p.arn("lambda", f"function:{name}")
                self._register(scope, ResourceInfo(lid, rtype, name, {"Arn": arn, "FunctionName": name}))
            elif rtype == LAYER_TYPE:
                name = str(props.get("LayerName") or f"{p.stack_name}-{lid}")
                arn = p.arn("lambda", f"layer:{name}:1")
                self._register(scope, ResourceInfo(lid, rtype, arn, {"Arn": arn}))
                content = local_artifact(self.translation, props.get("Content"))
                if content is not None and content.is_dir():
                    layers[arn] = layer_spec(arn, content, res.get("Metadata"))
                    if str((res.get("Metadata") or {}).get("BuildMethod", "")).startswith("python"):
                        layers[arn].dependencies = self._build(lid, content)
                else:
                    self.diagnostics.unsupported(lid, "ContentUri", "not a local directory; layer not attached")
            elif rtype in API_TYPES:
                api_id = lid.lower()
                self._register(scope, ResourceInfo(lid, rtype, api_id, {
                    "RootResourceId": "root", "ApiEndpoint": self.api_url, "ApiId": api_id}))
        for key, directory in self.config.layer_dirs.items():
            layers[key] = layer_spec(key, Path(directory).resolve(), {"BuildMethod": "python"})
        return layers

    def _function_specs(self, template: Template, scope: Any, layers: dict[str, LayerSpec]) -> list[FunctionSpec]:
        invoke_configs = {}
        for lid, res in template.of_type("AWS::Lambda::EventInvokeConfig").items():
            props = resolve_properties(lid, res["Properties"], scope, self.diagnostics)
            invoke_configs[str(props.get("FunctionName"))] = props
        specs = []
        for lid, res in template.of_type(FUNCTION_TYPE).items():
            raw = res["Properties"]
            props = resolve_properties(lid, {k: v for k, v in raw.items() if k not in _UNRESOLVED_FUNCTION_PROPS},
                                       scope, self.diagnostics)
            variables = (raw.get("Environment") or {}).get("Variables")
            if isinstance(variables, dict):  # one unresolvable variable costs only itself
                props["Environment"] = {"Variables": resolve_properties(f"{lid}.Environment.Variables", variables,
                                                                        scope, self.diagnostics)}
            info = self.resources[lid]
            extra = invoke_configs.get(info.ref) or invoke_configs.get(info.arn or "")
            spec = function_spec(lid, props, info.ref, info.arn or "", self._code_dir(lid, raw.get("Code")),
                                 layers, self.diagnostics, extra)
            if spec is not None:
                spec.dependencies = self._build(lid, spec.code_dir)
                specs.append(spec)
        return specs

    def _build(self, logical_id: str, directory: Path) -> Path | None:
        """`sam build` for one function or layer: its requirements.txt installed once (cached by hash)."""
        if not self.config.build:
            return None
        if self._builder is None:
            cache = Path(self.config.build_cache) if self.config.build_cache else DEFAULT_CACHE
            self._builder = Builder(cache, lambda line: print(f"hoptrace local: {line}", file=sys.stderr,
                                                               flush=True))
        try:
            return self._builder.dependencies(self.diagnostics.origin(logical_id), directory)
        except BuildError as exc:
            raise TemplateError(str(exc)) from None

    def _code_dir(self, logical_id: str, code: Any) -> Path | None:
        local = local_artifact(self.translation, code)
        if local is not None:
            return local
        if isinstance(code, dict) and isinstance(code.get("ZipFile"), str):
            if self._inline_root is None:
                self._inline_root = Path(tempfile.mkdtemp(prefix="hoptrace-inline-"))
            return write_inline_code(self._inline_root, logical_id, code["ZipFile"])
        return None

    def _start_services(self, template: Template, scope: Any, provisioner: Provisioner,
                        state_machines: StateMachines) -> None:
        cfg = self.config
        destinations = Destinations(self._client, self.invoke_async_by_arn)
        self._invoker = AsyncInvoker(destinations, cfg.async_retry_delays)
        scheduler, router = Scheduler(), LogRouter(cfg.account_id, cfg.log_batch_interval)
        self.logs.add_listener(router)
        if cfg.mirror_logs_to_moto:
            mirror = LogMirror(self._client("logs"), cfg.log_batch_interval)
            self.logs.add_listener(mirror)
            self._stoppables.append(mirror)
            mirror.start()
        assert self._api is not None
        wiring = TriggerWiring(provisioner, self.diagnostics, self.functions, self.resources, self._api,
                               self._invoker, scheduler, router, wait_seconds=cfg.sqs_wait_seconds,
                               visibility_timeout=cfg.sqs_visibility_timeout,
                               schedule_time_scale=cfg.schedule_time_scale, jwt_keys=dict(cfg.jwt_keys))
        self._stoppables += [scheduler, router, self._invoker]
        wiring.state_machines = state_machines
        for lid, res in template.resources.items():
            if res["Type"] != FUNCTION_TYPE:
                info = self.resources.get(lid)
                props = info.properties if info is not None and info.properties else resolve_properties(
                    lid, res["Properties"], scope, self.diagnostics)
                wiring.wire_resource(lid, res["Type"], props)
        wiring.finish()
        self.summary = wiring.summary
        self._pollers = wiring.pollers
        self._api.start()
        for poller in self._pollers:
            poller.start()
        scheduler.start()
        router.start()
        threading.Thread(target=self._reap, name="reaper", daemon=True).start()

    def _reap(self) -> None:
        interval = max(0.5, min(self.config.idle_timeout / 2, 30.0))
        while not self._stop_reaper.wait(interval):
            for pool in self.functions.values():
                pool.reap_idle(self.config.idle_timeout)

    def stop(self) -> None:
        """Stop pollers, workers, services and moto, in that order; safe to call more than once."""
        self._stop_reaper.set()
        if self.stepfunctions is not None:
            self.stepfunctions.shutdown()
        pollers, self._pollers = getattr(self, "_pollers", []), []
        for poller in pollers:
            poller.signal_stop()
        for pool in self.functions.values():
            pool.stop()
        for service in reversed(self._stoppables):
            service.stop()
        self._stoppables = []
        self._moto.stop()
        if self._inline_root is not None:
            shutil.rmtree(self._inline_root, ignore_errors=True)
            self._inline_root = None
        # Pollers are daemon threads whose long poll now fails; they exit on their own, owning no process.
        for poller in pollers:
            poller.join(0.1)

    # -- access for tests and the CLI ---------------------------------------------------------------
    @property
    def api_url(self) -> str:
        if self._api is None:
            raise RuntimeError("the local cloud is not started; use `with LocalCloud(path) as cloud:`")
        return self._api.url

    @property
    def warnings(self) -> list[str]:
        return list(self.diagnostics.warnings)

    def client(self, service: str) -> Any:
        """A boto3 client bound to the local moto server."""
        return self._client(service)

    def resource(self, logical_id: str) -> ResourceInfo:
        if logical_id not in self.resources:
            raise KeyError(f"{logical_id!r} is not a resource of {self.template_path} that runs locally; "
                           f"known: {', '.join(sorted(self.resources))}")
        return self.resources[logical_id]

    def function(self, logical_id: str) -> FunctionPool:
        if logical_id not in self.functions:
            raise KeyError(f"{logical_id!r} is not a function that runs locally; known: {', '.join(self.functions)}")
        return self.functions[logical_id]

    def invoke(self, logical_id: str, event: Any, client_context: dict[str, Any] | None = None) -> Invocation:
        """Invoke(RequestResponse) a function."""
        return self.function(logical_id).invoke(event, client_context)

    def invoke_async(self, logical_id: str, event: Any) -> None:
        """Invoke(Event): queued, retried, then sent to the function's DLQ/on-failure destination."""
        assert self._invoker is not None
        self._invoker.submit(self.function(logical_id), event)

    def invoke_async_by_arn(self, arn: str, event: Any) -> bool:
        pool = next((p for p in self.functions.values() if p.spec.arn == arn), None)
        if pool is None or self._invoker is None:
            return False
        self._invoker.submit(pool, event)
        return True

    def _invoke_task(self, function: str, event: Any, trace_header: str | None) -> tuple[Any, Any, str]:
        """A state machine's Lambda task: by name, ARN or qualified ARN, in the function's worker pool."""
        name = function.split(":function:", 1)[-1].split(":", 1)[0]
        pool = next((p for p in self.functions.values() if name in (p.spec.name, p.spec.logical_id)), None)
        if pool is None:
            return None, {"errorType": "Lambda.ResourceNotFoundException",
                          "errorMessage": f"Function not found: {function}"}, ""
        invocation = pool.invoke(event, None, trace_header)
        return invocation.payload, invocation.error, invocation.request_id

    def start_execution(self, logical_id: str, data: Any = None, trace_header: str | None = None) -> Execution:
        """StartExecution of one of the template's state machines (the input is JSON-encoded here)."""
        assert self.stepfunctions is not None
        return self.stepfunctions.start(self.resource(logical_id).ref, input_text=json.dumps(data or {}),
                                        trace_header=trace_header)

    def log_lines(self, logical_id: str) -> list[str]:
        return self.logs.messages(self.function(logical_id).spec.log_group)

    def wait_for_log(self, logical_id: str, text: str, timeout: float = 60.0) -> LogEvent:
        """Wait until a line of the function's log contains `text`."""
        return self.logs.wait_for(self.function(logical_id).spec.log_group, lambda e: text in e.message, timeout)

    def worker_pids(self) -> list[int]:
        return [pid for pool in self.functions.values() for pid in pool.worker_pids()]

    @property
    def moto_pid(self) -> int | None:
        return self._moto.pid
