"""Reads a SAM/CloudFormation template into plain dicts: short-form tags, Parameters, Globals."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from .template_checks import TemplateError, check_sections, check_template, yaml_error

# Short-form tags whose argument is a list/scalar/mapping passed as is (`!Sub x` -> {"Fn::Sub": x}).
_FN_TAGS = (
    "Base64", "Cidr", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Select", "Split", "Sub",
    "Transform", "And", "Equals", "Not", "Or", "Contains", "ToJsonString", "Length",
)


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's short-form intrinsic tags."""


def _construct(node: yaml.Node, loader: yaml.Loader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)  # the one kind of node left


def _fn_constructor(name: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _construct(node, loader)}

    return construct


def _scalar(loader: yaml.Loader, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, f"{node.tag} takes a name, not a list or mapping",
                                                node.start_mark)
    return loader.construct_scalar(node)


def _ref(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _scalar(loader, node)}


def _condition(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _scalar(loader, node)}


def _getatt(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


for _name in _FN_TAGS:
    _CfnLoader.add_constructor(f"!{_name}", _fn_constructor(_name))
_CfnLoader.add_constructor("!Ref", _ref)
_CfnLoader.add_constructor("!GetAtt", _getatt)
_CfnLoader.add_constructor("!Condition", _condition)
# CloudFormation accepts dates as plain strings (AWSTemplateFormatVersion: 2010-09-09).
_CfnLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _CfnLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, path: Path | None = None) -> dict[str, Any]:
    """Parse template text (YAML or JSON) with CloudFormation tags; a syntax error is one TemplateError line."""
    try:
        data = yaml.load(text, Loader=_CfnLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(path or Path("template"), exc) from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path or 'the template'} must be a YAML/JSON mapping with a 'Resources' section")
    return data


# Globals sections of SAM and the resource type each applies to.
_GLOBALS_TARGETS = {
    "Function": "AWS::Serverless::Function",
    "Api": "AWS::Serverless::Api",
    "HttpApi": "AWS::Serverless::HttpApi",
    "SimpleTable": "AWS::Serverless::SimpleTable",
    "LayerVersion": "AWS::Serverless::LayerVersion",
}


def _merge_globals(global_props: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """Merge as SAM does: maps merge key by key (resource wins), lists concatenate, scalars are overridden."""
    merged = copy.deepcopy(global_props)
    for key, value in props.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = _merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = current + value
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _is_intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


@dataclass
class Template:
    """A parsed template: its directory (CodeUri is relative to it), parameters and resources with Globals applied."""

    path: Path
    parameters: dict[str, str]
    resources: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    outputs: dict[str, Any]
    #: The document as written (before Globals), what `samtranslate.translate` reads.
    document: dict[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") in types}

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def load_template(path: str | Path, parameter_overrides: dict[str, str] | None = None) -> Template:
    """Load a template file, apply Globals and resolve Parameters to their values (override > default)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise TemplateError(f"template {path} does not exist; pass the path of your SAM template.yaml")
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError) as exc:
        raise TemplateError(f"{path}: cannot be read as UTF-8 text ({exc}); save it as UTF-8") from None
    data = load_yaml(text, path)
    document = copy.deepcopy(data)
    resources = data.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError(f"{path}: no 'Resources' section; is this a SAM/CloudFormation template?")
    check_sections(path, data)
    overrides = parameter_overrides or {}
    parameters: dict[str, str] = {}
    for name, spec in (data.get("Parameters") or {}).items():
        if name in overrides:
            parameters[name] = overrides[name]
        elif "Default" in spec:
            default = spec["Default"]
            parameters[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        else:
            raise TemplateError(
                f"{path}: parameter {name!r} has no Default; give it a value "
                f"(hoptrace local --parameter {name}=VALUE)"
            )
    global_sections = data.get("Globals") or {}
    for section, props in global_sections.items():
        target = _GLOBALS_TARGETS.get(section)
        if target is None:
            continue
        for resource in resources.values():
            if resource.get("Type") == target:
                resource["Properties"] = _merge_globals(props or {}, resource.get("Properties") or {})
    transform = data.get("Transform")
    sam = any(str(t).startswith("AWS::Serverless") for t in (transform if isinstance(transform, list) else [transform]))
    check_template(path, resources, data.get("Parameters") or {}, data.get("Conditions") or {},
                   data.get("Outputs") or {}, sam)
    for resource in resources.values():
        resource.setdefault("Properties", {})
        if resource["Properties"] is None:
            resource["Properties"] = {}
    return Template(
        path=path,
        parameters=parameters,
        resources=resources,
        conditions=data.get("Conditions") or {},
        outputs=data.get("Outputs") or {},
        document=document,
    )
