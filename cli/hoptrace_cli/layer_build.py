"""`hoptrace layer build`: the Lambda layer zip, reproducible and within a size budget.

The default engine has no dependency and no compiled code, so one zip serves every Python runtime
and architecture: `hoptrace-layer-<version>.zip`, with bytecode for each target Python side by side
in `__pycache__` (each file is named for its Python). `--engine otel` builds the OpenTelemetry SDK
engine's zip, `hoptrace-otel-layer-<version>.zip` (hoptrace plus the `otel` extra); only a
dependency with compiled code would make zips per runtime and architecture.

Layout, as Lambda mounts it under /opt:

    python/hoptrace/...             the layer package (no CLI, collector, dashboard or local cloud)
    python/<dependency>/...         its runtime dependencies (the SDK engine's zip only)
    python/**/__pycache__/*.pyc     bytecode of each target Python found on this machine
    hoptrace-exec-wrapper           for AWS_LAMBDA_EXEC_WRAPPER=/opt/hoptrace-exec-wrapper (mode 0755)

The size budget (`[tool.hoptrace.layer] max_unzipped_mb` in pyproject.toml) exists because every
megabyte of a layer is read at each cold start and counts against the 250 MB that a function and
its layers may unzip to.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import hoptrace
from hoptrace_cli import flags, layer_bytecode, layer_deps, layer_zip, layerdir
from hoptrace_cli.layer_deps import Target

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
ARCHITECTURES = ("x86_64", "arm64")
LAMBDA_UNZIPPED_LIMIT_MB = 250.0
MB = 1024 * 1024
# Never in the layer: the parts of hoptrace that run outside Lambda, and what the runtime provides.
FORBIDDEN_TOP_LEVEL = frozenset({"hoptrace_cli", "hoptrace_collector", "hoptrace_dashboard", "hoptrace_localcloud",
                                 "boto3", "botocore", "moto", "pandas", "streamlit", "bin"})


class LayerBuildError(RuntimeError):
    """The layer cannot be built as asked; the message says why and what to do."""


ENGINES = ("light", "otel")


@dataclass
class BuiltLayer:
    target: Target
    path: Path
    per_arch: bool
    zipped: int
    unzipped: int
    files: int
    bytecode: str  # the Python(s) that compiled it, or why there is none
    pythons: tuple[str, ...] = ()  # the runtimes this zip serves

    def __post_init__(self) -> None:
        self.pythons = self.pythons or (self.target.python,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build the layer zip(s) into dist/layer/",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--engine", choices=ENGINES, default="light",
                       help="light: the default engine, stdlib only, one zip for every runtime (default); "
                            "otel: the OpenTelemetry SDK engine's zip (HOPTRACE_ENGINE=otel)")
    build.add_argument("--python", action="append", choices=SUPPORTED_PYTHONS, metavar="VERSION",
                       help=f"target Python runtime (repeatable; default: {', '.join(SUPPORTED_PYTHONS)})")
    build.add_argument("--arch", action="append", choices=ARCHITECTURES,
                       help="target architecture (repeatable; default: both; ignored when no dependency is compiled)")
    build.add_argument("--out", type=Path, default=Path("dist/layer"), help="output folder (default: dist/layer)")
    build.add_argument("--cache-dir", type=Path, default=Path(".hoptrace/layer-cache"),
                       help="pip downloads and installed dependency trees (default: .hoptrace/layer-cache)")
    build.add_argument("--refresh", action="store_true", help="run pip again even if the dependencies are cached")
    pins = build.add_mutually_exclusive_group()
    pins.add_argument("--constraint", type=Path, help="pin dependency versions from this pip constraints file")
    pins.add_argument("--no-pin", action="store_true",
                      help="let pip pick the newest allowed versions (default: the versions installed here)")
    build.add_argument("--interpreter", action="append", default=[], metavar="VERSION=PATH",
                       help="the Python to compile bytecode with for VERSION, e.g. 3.13=/usr/bin/python3.13")
    build.add_argument("--require-bytecode", action="store_true",
                       help="fail instead of shipping sources only when a target Python is not on this machine")
    build.add_argument("--max-unzipped-mb", type=flags.POSITIVE,
                       help="size budget; default: [tool.hoptrace.layer] max_unzipped_mb in pyproject.toml")
    build.add_argument("--pyproject", type=Path, help="where to read the budget (default: the hoptrace checkout's)")


def run(args: argparse.Namespace) -> int:
    try:
        built = build(args)
    except (LayerBuildError, layer_deps.DependencyError) as error:
        print(f"hoptrace layer build: {error}", file=sys.stderr)
        return 1
    _print_publish_hint(built)
    return 0


def build(args: argparse.Namespace) -> list[BuiltLayer]:
    budget_mb = args.max_unzipped_mb if args.max_unzipped_mb is not None else budget_from_pyproject(args.pyproject)
    engine = getattr(args, "engine", "light")
    requirements = layer_deps.runtime_requirements()
    if engine == "otel":
        requirements = sorted({*requirements, *layer_deps.extra_requirements("otel")})
    constraints = _constraints(args, requirements)
    pythons = args.python or list(SUPPORTED_PYTHONS)
    arches = args.arch or list(ARCHITECTURES)
    explicit = _interpreters(args.interpreter)
    targets = [Target(python, arch) for python in dict.fromkeys(pythons) for arch in dict.fromkeys(arches)]
    print(f"hoptrace layer build: hoptrace {hoptrace.__version__} ({engine} engine) for {len(targets)} target(s); "
          f"requirements {', '.join(requirements) or 'none (standard library only)'}; "
          + (f"pinned to {', '.join(constraints)}" if constraints else "unpinned (newest allowed)"), flush=True)
    built: list[BuiltLayer] = []
    started = time.monotonic()
    universal = _universal(targets, requirements, constraints, explicit, budget_mb, args, engine)
    if universal is not None:
        _print_table([universal], budget_mb, time.monotonic() - started)
        return [universal]
    for index, target in enumerate(targets, 1):
        step = f"[{index}/{len(targets)}] {target.runtime} {target.arch}"
        if any(layer.target.python == target.python and not layer.per_arch for layer in built):
            print(f"{step}: skipped — no dependency is compiled, so the {target.runtime} zip serves both "
                  "architectures", flush=True)
            continue
        built.append(_build_one(target, step, requirements, constraints, explicit, budget_mb, args, engine))
    _print_table(built, budget_mb, time.monotonic() - started)
    return built


def _interpreters(items: list[str]) -> dict[str, str]:
    explicit = {}
    for item in items:
        version, sep, path = item.partition("=")
        if not sep or version not in SUPPORTED_PYTHONS:
            raise LayerBuildError(f"--interpreter {item!r} must look like VERSION=PATH with VERSION one of "
                                  f"{', '.join(SUPPORTED_PYTHONS)} (e.g. 3.13=/usr/bin/python3.13)")
        explicit[version] = path
    return explicit


def _constraints(args: argparse.Namespace, requirements: list[str]) -> list[str] | None:
    if args.no_pin:
        return None
    if args.constraint:
        return [line.strip() for line in args.constraint.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    return layer_deps.pins_from_environment(requirements)


def _zip_stem(engine: str) -> str:
    return f"hoptrace{'-otel' if engine == 'otel' else ''}-layer-{hoptrace.__version__}"


def _dependencies(target: Target, step: str, requirements: list[str], constraints: list[str] | None,
                  args: argparse.Namespace) -> Path | None:
    """The dependency tree for `target`, or None when there is no dependency at all."""
    if not requirements:
        return None
    print(f"{step}: dependencies ...", end=" ", flush=True)
    clock = time.monotonic()
    tree, from_cache = layer_deps.install(target, requirements, constraints, args.cache_dir.resolve(), args.refresh)
    print(f"{'from cache' if from_cache else 'installed with pip'} ({time.monotonic() - clock:.1f} s)", flush=True)
    return tree


def _universal(targets: list[Target], requirements: list[str], constraints: list[str] | None,
               explicit: dict[str, str], budget_mb: float | None, args: argparse.Namespace,
               engine: str) -> BuiltLayer | None:
    """One zip for every target, when nothing in it is compiled; None when a dependency is."""
    first = targets[0]
    pythons = tuple(dict.fromkeys(t.python for t in targets))
    step = f"[{', '.join(f'python{p}' for p in pythons)}, any architecture]"
    tree = _dependencies(first, step, requirements, constraints, args)
    if tree is not None and layer_deps.is_compiled(tree):
        return None
    destination = args.out / f"{_zip_stem(engine)}.zip"
    with tempfile.TemporaryDirectory(prefix="hoptrace-layer-") as folder:
        staging = _staged(Path(folder), tree)
        compiled = [_compile(Target(python, first.arch), staging / "python", explicit, args.require_bytecode, step)
                    for python in pythons]
        layer_zip.write(staging, destination)
    layer = BuiltLayer(first, destination, False, destination.stat().st_size, *layer_zip.totals(destination),
                       bytecode=", ".join(compiled), pythons=pythons)
    _report(layer, step, budget_mb)
    return layer


def _staged(staging: Path, tree: Path | None) -> Path:
    """The layer's folder as Lambda mounts it: the dependencies' tree (if any) and hoptrace itself, checked."""
    if tree is not None:
        shutil.copytree(tree, staging / "python")
    layerdir.assemble(staging)
    _check_contents(staging)
    return staging


def _build_one(target: Target, step: str, requirements: list[str], constraints: list[str] | None,
               explicit: dict[str, str], budget_mb: float | None, args: argparse.Namespace,
               engine: str = "light") -> BuiltLayer:
    tree = _dependencies(target, step, requirements, constraints, args)
    per_arch = tree is not None and layer_deps.is_compiled(tree)
    arch_part = f"-{target.arch}" if per_arch else ""
    destination = args.out / f"{_zip_stem(engine)}-py{target.python}{arch_part}.zip"
    with tempfile.TemporaryDirectory(prefix="hoptrace-layer-") as folder:
        staging = _staged(Path(folder), tree)
        bytecode = _compile(target, staging / "python", explicit, args.require_bytecode, step)
        layer_zip.write(staging, destination)
    layer = BuiltLayer(target, destination, per_arch, destination.stat().st_size, *layer_zip.totals(destination),
                       bytecode=bytecode)
    _report(layer, step, budget_mb)
    return layer


def _report(layer: BuiltLayer, step: str, budget_mb: float | None) -> None:
    destination = layer.path
    print(f"{step}: {destination} — {layer.zipped / MB:.2f} MB zipped, {layer.unzipped / MB:.2f} MB unzipped, "
          f"{layer.files} files", flush=True)
    print("    " + " · ".join(f"{name} {size / MB:.2f} MB" if size >= MB // 100 else f"{name} {size / 1024:.1f} KB"
                              for name, size in layer_zip.top_level_sizes(destination)), flush=True)
    _check_budget(layer, budget_mb)


def _check_contents(staging: Path) -> None:
    present = {path.name.split(".")[0] for path in (staging / "python").iterdir()} & FORBIDDEN_TOP_LEVEL
    if present:
        raise LayerBuildError(f"the layer would contain {', '.join(sorted(present))}, which must never ship in it "
                              "(they run outside Lambda or come with the runtime)")


def _compile(target: Target, python_dir: Path, explicit: dict[str, str], required: bool, step: str) -> str:
    executable = layer_bytecode.find_interpreter(target.python, explicit)
    if executable is None:
        message = (f"no Python {target.python} on this machine (looked in pyenv, PATH and uv; pass "
                   f"--interpreter {target.python}=PATH)")
        if required:
            raise LayerBuildError(message)
        print(f"{step}: WARNING {message}: this zip ships SOURCES ONLY — Lambda will compile hoptrace and its "
              "dependencies at every cold start, since /opt is read-only", flush=True)
        return "none (sources only)"
    version = layer_bytecode.interpreter_version(executable)
    count = layer_bytecode.compile_tree(executable, python_dir)
    print(f"{step}: {count} .pyc compiled by Python {version} ({executable})", flush=True)
    return f"Python {version}"


def _check_budget(layer: BuiltLayer, budget_mb: float | None) -> None:
    limits = [(LAMBDA_UNZIPPED_LIMIT_MB, "Lambda's limit for a function and all its layers")]
    if budget_mb is not None:
        limits.insert(0, (budget_mb, "the budget in pyproject.toml [tool.hoptrace.layer] max_unzipped_mb "
                                     "(or --max-unzipped-mb)"))
    for limit, what in limits:
        if layer.unzipped > limit * MB:
            layer.path.unlink()
            raise LayerBuildError(
                f"{layer.path.name} unzips to {layer.unzipped / MB:.2f} MB, over {limit:g} MB, {what}. "
                "The summary above shows what grew; remove a dependency or raise the budget deliberately. "
                "The zip was not kept.")


def budget_from_pyproject(path: Path | None) -> float | None:
    """`[tool.hoptrace.layer] max_unzipped_mb` from the hoptrace checkout's pyproject.toml, if there is one."""
    candidates = [path] if path else [Path.cwd() / "pyproject.toml",
                                      layerdir.SOURCE.parent.parent / "pyproject.toml"]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        data = tomllib.loads(candidate.read_text())
        if path is None and data.get("project", {}).get("name") != "hoptrace":
            continue  # some other project's pyproject: its budget is not ours
        value = data.get("tool", {}).get("hoptrace", {}).get("layer", {}).get("max_unzipped_mb")
        if value is not None:
            return float(value)
    return None


def _print_table(built: list[BuiltLayer], budget_mb: float | None, seconds: float) -> None:
    budget = f"budget {budget_mb:g} MB unzipped" if budget_mb is not None else "no budget set"
    print(f"\nbuilt {len(built)} zip(s) in {seconds:.1f} s ({budget}; Lambda allows {LAMBDA_UNZIPPED_LIMIT_MB:g} MB "
          "for a function and its layers):")
    for layer in built:
        print(f"  {layer.path.name:44} {layer.zipped / MB:6.2f} MB zipped {layer.unzipped / MB:6.2f} MB unzipped  "
              f"bytecode: {layer.bytecode}")
    if any(not layer.per_arch for layer in built):
        print("  (a zip without an architecture in its name holds no compiled code: publish it for both; one "
              "without a Python in its name serves every runtime it lists)")


def _print_publish_hint(built: list[BuiltLayer]) -> None:
    """The publish command per zip, with the compatible runtime/architecture that `hoptrace attach`
    checks, so a zip can only be attached to functions it was built for."""
    if built:
        print("\npublish with:")
    for layer in built:
        arches = layer.target.arch if layer.per_arch else " ".join(ARCHITECTURES)
        base = "hoptrace-otel" if layer.path.name.startswith("hoptrace-otel") else "hoptrace"
        if len(layer.pythons) > 1:
            name = base
        else:
            name = f"{base}-py{layer.target.python.replace('.', '')}" + (f"-{layer.target.arch}" if layer.per_arch
                                                                         else "")
        runtimes = " ".join(f"python{p}" for p in layer.pythons)
        print(f"  aws lambda publish-layer-version --layer-name {name} --zip-file fileb://{layer.path} "
              f"--compatible-runtimes {runtimes} --compatible-architectures {arches}")
