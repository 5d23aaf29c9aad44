"""Turns an `AWS::Lambda::Function` (properties resolved, as SAM translates a function) into what a worker
needs to start: code directory, handler, layers' python dirs, exec wrapper, the Lambda environment."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostics
from .platformlog import LogSettings, settings_from

PYTHON_TAG = f"python{sys.version_info.major}.{sys.version_info.minor}"


@dataclass
class LayerSpec:
    """A layer's local content: `root` stands for /opt, `python_dir` for /opt/python."""

    arn: str
    root: Path
    python_dir: Path
    #: What the build step installed from the layer's requirements.txt (on the path after python_dir).
    dependencies: Path | None = None


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout: float
    memory_mb: int
    environment: dict[str, str]
    layers: list[LayerSpec]
    exec_wrapper: Path | None
    reserved_concurrency: int | None
    max_retry_attempts: int = 2
    dead_letter_arn: str | None = None
    on_failure_arn: str | None = None
    log_settings: LogSettings = field(default_factory=LogSettings)
    custom_log_group: str | None = None  # LoggingConfig.LogGroup
    #: What the build step installed from the code's requirements.txt (on the path right after the code).
    dependencies: Path | None = None

    @property
    def log_group(self) -> str:
        return self.custom_log_group or f"/aws/lambda/{self.name}"


def layer_spec(arn: str, content_dir: Path, metadata: dict[str, Any] | None) -> LayerSpec:
    """Where /opt/python is: the `python/` folder, or the folder itself when `sam build` would put it there."""
    python_dir = content_dir / "python"
    build_method = str((metadata or {}).get("BuildMethod", ""))
    if not python_dir.is_dir() and build_method.startswith("python"):
        python_dir = content_dir
    return LayerSpec(arn=arn, root=content_dir, python_dir=python_dir)


def function_spec(logical_id: str, props: dict[str, Any], name: str, arn: str, code_dir: Path | None,
                  layers: dict[str, LayerSpec], diagnostics: Diagnostics,
                  invoke_config: dict[str, Any] | None = None) -> FunctionSpec | None:
    """Build the spec of an `AWS::Lambda::Function` (properties resolved, `Code` already mapped to `code_dir`),
    warning about (and skipping) what cannot run here; None if the function cannot run."""
    runtime = str(props.get("Runtime", PYTHON_TAG))
    if not runtime.startswith("python"):
        diagnostics.unsupported(logical_id, "Runtime", f"{runtime!r}: only python runtimes run locally; "
                                "function skipped")
        return None
    if props.get("PackageType") == "Image":
        diagnostics.unsupported(logical_id, "PackageType", "container images do not run locally; function skipped")
        return None
    if code_dir is None:
        code = props.get("Code")
        diagnostics.unsupported(logical_id, "CodeUri", f"{code!r} is not a local directory; function skipped")
        return None
    if not code_dir.is_dir():
        diagnostics.unsupported(logical_id, "CodeUri", f"{code_dir} does not exist; function skipped")
        return None
    function_layers = []
    for layer_arn in props.get("Layers") or []:
        spec = layers.get(str(layer_arn)) or layers.get(str(layer_arn).rsplit(":", 1)[0])
        if spec is None:
            diagnostics.unsupported(logical_id, "Layers", f"{layer_arn} has no local content; give it with "
                                    "LocalCloudConfig.layer_dirs (hoptrace local --layer ARN=DIR)")
            continue
        function_layers.append(spec)
    environment = {str(k): _env_value(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
    wrapper = _exec_wrapper(logical_id, environment.get("AWS_LAMBDA_EXEC_WRAPPER"), function_layers, diagnostics)
    for key in ("VpcConfig", "FileSystemConfigs", "SnapStart", "CodeSigningConfigArn", "KmsKeyArn"):
        if key in props:
            diagnostics.unsupported(logical_id, key, "ignored locally")
    if str((props.get("TracingConfig") or {}).get("Mode", "")).lower() == "active":
        diagnostics.unsupported(logical_id, "Tracing", "active X-Ray tracing is not emulated (Sampled=0)")
    logging_config = props.get("LoggingConfig")
    log_settings, problems = settings_from(logging_config)
    for problem in problems:
        diagnostics.unsupported(logical_id, "LoggingConfig", problem)
    custom_group = logging_config.get("LogGroup") if isinstance(logging_config, dict) else None
    invoke_config = invoke_config or {}
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        code_dir=code_dir,
        handler=str(props.get("Handler", "app.lambda_handler")),
        timeout=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
        environment=environment,
        layers=function_layers,
        exec_wrapper=wrapper,
        reserved_concurrency=_optional_int(props.get("ReservedConcurrentExecutions")),
        max_retry_attempts=int(invoke_config.get("MaximumRetryAttempts", 2)),
        dead_letter_arn=(props.get("DeadLetterConfig") or {}).get("TargetArn"),
        on_failure_arn=((invoke_config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
        log_settings=log_settings,
        custom_log_group=str(custom_group) if custom_group else None,
    )


def write_inline_code(root: Path, logical_id: str, source: str) -> Path:
    """`InlineCode` (CloudFormation `Code.ZipFile`): Lambda stores it as index.py, so handlers are `index.x`."""
    directory = root / logical_id
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.py").write_text(source)
    return directory


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _exec_wrapper(logical_id: str, path: str | None, layers: list[LayerSpec],
                  diagnostics: Diagnostics) -> Path | None:
    """Map the wrapper's /opt/... path onto the layer that ships it, as Lambda's /opt mount would."""
    if not path:
        return None
    if path.startswith("/opt/"):
        relative = path[len("/opt/"):]
        for layer in reversed(layers):  # later layers overwrite earlier ones in /opt
            candidate = layer.root / relative
            if candidate.is_file():
                return candidate
    elif Path(path).is_file():
        return Path(path)
    diagnostics.unsupported(logical_id, "Environment.AWS_LAMBDA_EXEC_WRAPPER",
                            f"{path} is in none of the function's layers; the wrapper is not run")
    return None
