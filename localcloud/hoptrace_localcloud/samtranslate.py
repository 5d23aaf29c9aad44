"""SAM -> CloudFormation with `samtranslator`, SAM's own translator, so the local cloud runs exactly the resources
SAM would deploy (implicit APIs as OpenAPI bodies, event source mappings, rules, subscriptions, permissions,
EventInvokeConfig) and emulates CloudFormation types only.

What needs care around the translator:
- local `CodeUri`/`ContentUri` are swapped for placeholder S3 URIs before translating (SAM accepts only S3 for
  deployable artifacts) and mapped back through `Translation.artifacts`;
- local `DefinitionUri` files and `Fn::Transform: AWS::Include` of local files are inlined, as `sam package`
  would upload and CloudFormation would include them;
- managed policy names resolve from the translator's bundled offline map (no IAM call);
- intrinsics are left in place for the local resolver (`intrinsics.py`), which knows local names and ARNs.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.metadata
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .template_checks import samtranslator_causes

ARTIFACT_BUCKET = "hoptrace-local-artifacts"
DEFAULT_CACHE = Path.home() / ".hoptrace" / "translated"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
# SAM resource -> the properties holding local artifact paths (uploaded by `sam package`).
_ARTIFACT_PROPS = {
    "AWS::Serverless::Function": ("CodeUri",),
    "AWS::Serverless::LayerVersion": ("ContentUri",),
    "AWS::Lambda::Function": ("Code",),
    "AWS::Lambda::LayerVersion": ("Content",),
}
# SAM resource -> (property with a local definition file, the inline property SAM accepts instead).
_DEFINITION_PROPS = {
    "AWS::Serverless::Api": ("DefinitionUri", "DefinitionBody"),
    "AWS::Serverless::HttpApi": ("DefinitionUri", "DefinitionBody"),
    "AWS::Serverless::StateMachine": ("DefinitionUri", "Definition"),
}


class TranslationError(ValueError):
    """SAM rejected the template; the message lists each problem SAM names."""


@dataclass
class Translation:
    """The CloudFormation document and what maps it back to the user's template."""

    document: dict[str, Any]
    #: S3 key of a placeholder artifact -> the local directory it stands for.
    artifacts: dict[str, Path] = field(default_factory=dict)
    #: Generated logical id -> where the user wrote it (`Fn.Events.Orders`), for warnings.
    origins: dict[str, str] = field(default_factory=dict)
    #: Original logical id -> generated one, where SAM renamed a resource (layers get a hash suffix).
    renamed: dict[str, str] = field(default_factory=dict)


def needs_translation(document: dict[str, Any]) -> bool:
    transform = document.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in transforms or any(
        str(res.get("Type", "")).startswith("AWS::Serverless::")
        for res in (document.get("Resources") or {}).values() if isinstance(res, dict))


def translate(document: dict[str, Any], parameters: dict[str, str], base_dir: Path, region: str,
              cache_dir: Path | None = DEFAULT_CACHE) -> Translation:
    """Translate a parsed SAM template (not mutated); plain CloudFormation passes through with artifacts mapped.
    The translator's output is cached by input hash: a restart neither imports samtranslator nor translates."""
    doc = copy.deepcopy(document)
    doc = _inline_includes(doc, base_dir)
    artifacts = _swap_artifacts(doc, base_dir)
    _inline_definitions(doc, base_dir)
    if not needs_translation(doc):
        return Translation(doc, artifacts)
    doc["Transform"] = SAM_TRANSFORM  # other macros (AWS::LanguageExtensions ...) are not run locally
    origins = _event_origins(doc)
    original_ids = set(doc.get("Resources") or {})
    if any(isinstance(spec, dict) and str(spec.get("NoEcho", "")).lower() == "true"
           for spec in (doc.get("Parameters") or {}).values()):
        cache_dir = None  # values of NoEcho parameters may appear in the output: never written to disk
    key = _cache_key(doc, parameters, region)
    output = _cached(key, cache_dir)
    if output is None:
        output = _run_translator(doc, parameters, region)
        _store(key, cache_dir, output)
    renamed = _renamed(original_ids, output.get("Resources") or {}, document)
    return Translation(output, artifacts, origins, renamed)


def _cache_key(doc: dict[str, Any], parameters: dict[str, str], region: str) -> str:
    """Same input (after local files are inlined), parameters, region and translator version: same output."""
    try:
        version = importlib.metadata.version("aws-sam-translator")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    text = json.dumps([doc, parameters, region, version], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cached(key: str, cache_dir: Path | None) -> dict[str, Any] | None:
    if cache_dir is None:
        return None
    try:
        return json.loads((cache_dir / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def _store(key: str, cache_dir: Path | None, output: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs the next start the translation again."""
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = cache_dir / f".{key}.{os.getpid()}.tmp"
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(output, handle)
        staging.replace(cache_dir / f"{key}.json")
    except OSError:
        pass


def _run_translator(doc: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    import boto3
    from samtranslator.metrics.metrics import Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator import translator as sam_translator
    from samtranslator.translator.translator import Translator

    _share_policy_templates(sam_translator)
    metrics = Metrics("hoptrace-local")
    translator = Translator(None, Parser(), metrics=metrics, boto_session=boto3.session.Session(region_name=region))
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    try:
        return translator.translate(doc, parameter_values=dict(parameters), passthrough_metadata=True,
                                    get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        raise TranslationError(samtranslator_causes(exc)) from None
    finally:
        metrics.publish()


def _share_policy_templates(module: Any) -> None:
    """samtranslator builds its policy-templates plugin on every translation, validating its own bundled
    templates against a JSON schema each time: 0.3 s, 40 % of translating the pipeline test app. The plugin
    holds only the parsed templates, so one built per process serves every later translation (a test session
    translates a new template on each start)."""
    build = module.make_policy_template_for_function_plugin
    if getattr(build, "shared", False):
        return
    plugin = build()

    def shared() -> Any:
        return plugin

    shared.shared = True  # type: ignore[attr-defined]  # a marker on our own function
    module.make_policy_template_for_function_plugin = shared


def _placeholder(logical_id: str, key: str) -> str:
    return f"{logical_id}/{key}"


def _swap_artifacts(doc: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Local artifact paths -> placeholder S3 locations SAM accepts; returns key -> local directory."""
    artifacts: dict[str, Path] = {}
    resources = doc.get("Resources") or {}
    global_code = ((doc.get("Globals") or {}).get("Function") or {}).pop("CodeUri", None)
    for lid, res in resources.items():
        if not isinstance(res, dict):
            continue
        rtype, props = res.get("Type"), res.get("Properties")
        if rtype not in _ARTIFACT_PROPS:
            continue
        if props is None:
            props = res["Properties"] = {}
        if rtype == "AWS::Serverless::Function" and "CodeUri" not in props and global_code is not None:
            props["CodeUri"] = copy.deepcopy(global_code)
        if (rtype == "AWS::Serverless::Function" and "CodeUri" not in props and "InlineCode" not in props
                and "ImageUri" not in props and props.get("PackageType") != "Image"):
            props["CodeUri"] = "."  # `sam build` uses the template's directory
        for key in _ARTIFACT_PROPS[rtype]:
            value = props.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                s3_key = _placeholder(lid, key)
                artifacts[s3_key] = (base_dir / value).resolve()
                props[key] = ({"S3Bucket": ARTIFACT_BUCKET, "S3Key": s3_key} if rtype.startswith("AWS::Lambda::")
                              else f"s3://{ARTIFACT_BUCKET}/{s3_key}")
    return artifacts


def local_artifact(translation: Translation, location: Any) -> Path | None:
    """The local directory a translated `Code`/`Content` stands for (None for real S3 or inline code)."""
    if isinstance(location, dict) and location.get("S3Bucket") == ARTIFACT_BUCKET:
        return translation.artifacts.get(str(location.get("S3Key")))
    return None


def _load_file(path: Path) -> Any:
    from .template import load_yaml

    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else load_yaml(text, path)


def _inline_definitions(doc: dict[str, Any], base_dir: Path) -> None:
    for res in (doc.get("Resources") or {}).values():
        if not isinstance(res, dict) or res.get("Type") not in _DEFINITION_PROPS:
            continue
        uri_key, body_key = _DEFINITION_PROPS[res["Type"]]
        props = res.get("Properties") or {}
        uri = props.get(uri_key)
        if isinstance(uri, str) and not uri.startswith("s3://") and (base_dir / uri).is_file():
            props[body_key] = _load_file(base_dir / uri)
            del props[uri_key]


def _inline_includes(value: Any, base_dir: Path) -> Any:
    """`Fn::Transform: {Name: AWS::Include, Parameters: {Location: ./local.yaml}}` -> the file's content."""
    if isinstance(value, list):
        return [_inline_includes(item, base_dir) for item in value]
    if not isinstance(value, dict):
        return value
    transform = value.get("Fn::Transform")
    if len(value) == 1 and isinstance(transform, dict) and transform.get("Name") == "AWS::Include":
        location = str((transform.get("Parameters") or {}).get("Location", ""))
        if location and not location.startswith("s3://") and (base_dir / location).is_file():
            return _inline_includes(_load_file(base_dir / location), base_dir)
    return {key: _inline_includes(item, base_dir) for key, item in value.items()}


def _event_origins(doc: dict[str, Any]) -> dict[str, str]:
    """SAM names what it generates for an event `<Function><EventId>` (plus suffixes); map those back."""
    origins: dict[str, str] = {}
    for lid, res in (doc.get("Resources") or {}).items():
        if not isinstance(res, dict):
            continue
        for event_id in ((res.get("Properties") or {}).get("Events") or {}):
            origins[f"{lid}{event_id}"] = f"{lid}.Events.{event_id}"
    return origins


def origin_of(translation: Translation, logical_id: str) -> str:
    """Where the user wrote what produced `logical_id` (longest matching event prefix), else the id itself."""
    for original, generated in translation.renamed.items():
        if generated == logical_id:
            return original
    best = ""
    for prefix in translation.origins:
        if logical_id.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return translation.origins[best] if best else logical_id


def _renamed(original_ids: set[str], resources: dict[str, Any], document: dict[str, Any]) -> dict[str, str]:
    renamed = {}
    for lid in original_ids - set(resources):
        candidates = [gen for gen in resources if gen.startswith(lid) and gen[len(lid):].isalnum()
                      and len(gen) - len(lid) == 10]
        if len(candidates) == 1:
            renamed[lid] = candidates[0]
    return renamed

