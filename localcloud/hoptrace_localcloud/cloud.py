"""`LocalCloud`: a SAM template running on this machine — moto for managed services, worker processes for
functions, and the triggers between them. Start/stop order lives here; each part lives in its module."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

from .apiserver import ApiServer
from .asyncinvoke import AsyncInvoker, Destinations
from .config import LocalCloudConfig
from .diagnostics import Diagnostics
from .functions import FunctionSpec, LayerSpec, function_spec, layer_spec
from .hooks import HookServer
from .logmirror import LogMirror
from .logstore import LogEvent, LogStore
from .logsubscriptions import LogRouter
from .motoserver import DUMMY_CREDENTIALS, MotoServer, client_factory
from .pool import FunctionPool, Invocation
from .provisioning import Provisioner
from .resources import ResourceInfo, build_scope, creation_order, included, resolve_properties
from .schedules import Scheduler
from .statemachines import TYPES as STATE_MACHINE_TYPES
from .statemachines import StateMachines
from .stepfunctions import api as stepfunctions_api
from .stepfunctions.service import Execution, StepFunctionsService
from .stepfunctions.tasks import TaskRunner
from .template import Template, load_template
from .triggers import TriggerSummary, TriggerWiring

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
API_TYPES = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")
# Function properties that only matter for permissions or deployment, never resolved locally.
_UNRESOLVED_FUNCTION_PROPS = ("Policies", "Role", "Events", "DeploymentPreference", "Tags")


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
        template = load_template(self.template_path, cfg.parameters)
        self._hooks = HookServer()
        self._stoppables.append(self._hooks)
        self._moto = MotoServer(hooks=self._hooks.targets(stepfunctions_api.TARGETS))
        self.endpoint_url = self._moto.start()
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
        scope.attribute_fallback = lambda lid, attr: (
            provisioner.arn("iam", f"role/{lid}") if attr == "Arn" else None)
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
        specs = self._function_specs(template, scope, layers)
        for spec in specs:
            self.functions[spec.logical_id] = FunctionPool(spec, self.logs, self.endpoint_url, cfg.region,
                                                           DUMMY_CREDENTIALS, cfg.max_concurrency,
                                                           enforce_memory=cfg.enforce_memory_limit)
        self._start_services(template, scope, provisioner, specs, state_machines)

    def _register(self, scope: Any, info: ResourceInfo) -> None:
        self.resources[info.logical_id] = info
        scope.refs[info.logical_id] = info.ref
        scope.attributes[info.logical_id] = info.attributes

    def _register_compute(self, template: Template, p: Provisioner, scope: Any) -> dict[str, LayerSpec]:
        """Functions, layers and APIs have no moto resource; their names and ARNs come first so anything
        may reference them."""
        endpoint = {"RootResourceId": "root", "ApiEndpoint": self.api_url}
        for lid in ("ServerlessRestApi", "ServerlessHttpApi"):
            self._register(scope, ResourceInfo(lid, "implicit", lid.lower(), dict(endpoint)))
        layers: dict[str, LayerSpec] = {}
        for lid, res in template.resources.items():
            rtype, props = res["Type"], res["Properties"]
            if rtype in FUNCTION_TYPES:
                name = str(resolve_properties(lid, props, scope, self.diagnostics, ("FunctionName",)).get(
                    "FunctionName") or f"{p.stack_name}-{lid}")[:64]
                arn = p.arn("lambda", f"function:{name}")
                self._register(scope, ResourceInfo(lid, rtype, name, {"Arn": arn, "FunctionName": name}))
            elif rtype in LAYER_TYPES:
                name = str(props.get("LayerName") or f"{p.stack_name}-{lid}")
                arn = p.arn("lambda", f"layer:{name}:1")
                self._register(scope, ResourceInfo(lid, rtype, arn, {"Arn": arn}))
                content = props.get("ContentUri") if rtype == LAYER_TYPES[0] else None
                if isinstance(content, str) and (template.base_dir / content).is_dir():
                    layers[arn] = layer_spec(arn, (template.base_dir / content).resolve(), res.get("Metadata"))
                else:
                    self.diagnostics.unsupported(lid, "ContentUri", "not a local directory; layer not attached")
            elif rtype in API_TYPES:
                props = resolve_properties(lid, props, scope, self.diagnostics, ("StageName",
                                                                                  "PayloadFormatVersion"))
                self._register(scope, ResourceInfo(lid, rtype, lid.lower(), dict(endpoint), props))
        for key, directory in self.config.layer_dirs.items():
            layers[key] = layer_spec(key, Path(directory).resolve(), {"BuildMethod": "python"})
        return layers

    def _function_specs(self, template: Template, scope: Any, layers: dict[str, LayerSpec]) -> list[FunctionSpec]:
        invoke_configs = {}
        for lid, res in template.of_type("AWS::Lambda::EventInvokeConfig").items():
            props = resolve_properties(lid, res["Properties"], scope, self.diagnostics)
            invoke_configs[str(props.get("FunctionName"))] = props
        specs = []
        for lid, res in template.of_type(*FUNCTION_TYPES).items():
            props = {k: v for k, v in res["Properties"].items() if k not in _UNRESOLVED_FUNCTION_PROPS}
            props = resolve_properties(lid, props, scope, self.diagnostics)
            props["Events"] = resolve_properties(lid, res["Properties"].get("Events") or {}, scope, self.diagnostics)
            info = self.resources[lid]
            if res["Type"] == "AWS::Lambda::Function":
                props.setdefault("CodeUri", props.get("Code") if isinstance(props.get("Code"), str) else None)
            extra = invoke_configs.get(info.ref) or invoke_configs.get(info.arn or "")
            if extra:
                props["EventInvokeConfig"] = extra
            spec = function_spec(lid, props, info.ref, info.arn or "", template.base_dir, layers, self.diagnostics)
            if spec is not None:
                specs.append(spec)
        return specs

    def _start_services(self, template: Template, scope: Any, provisioner: Provisioner,
                        specs: list[FunctionSpec], state_machines: StateMachines) -> None:
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
                               schedule_time_scale=cfg.schedule_time_scale)
        self._stoppables += [scheduler, router, self._invoker]
        wiring.state_machines = state_machines
        for spec in specs:
            wiring.wire_function_events(self.functions[spec.logical_id], spec.events)
        for lid, res in template.resources.items():
            if res["Type"] not in FUNCTION_TYPES:
                props = self.resources[lid].properties if lid in self.resources else resolve_properties(
                    lid, res["Properties"], scope, self.diagnostics)
                wiring.wire_resource(lid, res["Type"], props)
        state_machines.wire_sam_events(wiring, self._api, self.resources)
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

    def wait_for_log(self, logical_id: str, text: str, timeout: float = 15.0) -> LogEvent:
        """Wait until a line of the function's log contains `text`."""
        return self.logs.wait_for(self.function(logical_id).spec.log_group, lambda e: text in e.message, timeout)

    def worker_pids(self) -> list[int]:
        return [pid for pool in self.functions.values() for pid in pool.worker_pids()]

    @property
    def moto_pid(self) -> int | None:
        return self._moto.pid
