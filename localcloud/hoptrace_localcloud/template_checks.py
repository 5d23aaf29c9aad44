"""Checks a SAM/CloudFormation template before anything starts, so each mistake costs the user one line naming
the file, the place (line, or resource and property) and the fix — never a traceback, and never a made-up value
that fails later somewhere else (CloudFormation refuses the same templates at deploy time).

The checks run on the template as written (after Globals, before any SAM translation): that is where the names
the user typed still are.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources as package_files
from pathlib import Path
from typing import Any

PSEUDO_PARAMETERS = frozenset({
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
})
# Resources SAM creates without the template naming them; others SAM names `<LogicalId><Suffix>`.
_SAM_IMPLICIT = ("ServerlessRestApi", "ServerlessHttpApi", "ServerlessWebSocketApi")
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_TYPE_SHAPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


class TemplateError(ValueError):
    """The template cannot be run; the message is one line naming the place and the fix."""


@cache
def known_resource_types() -> frozenset[str]:
    """CloudFormation's and SAM's resource type names (bundled list, see its header)."""
    text = package_files.files(__package__).joinpath("cfn_resource_types.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def yaml_error(path: Path, exc: Exception) -> TemplateError:
    """A YAML parse error as `file:line:column: what; what to do`."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    tag = re.search(r"constructor for the tag '(![^']*)'", problem)
    if tag:
        return TemplateError(f"{where}: unknown tag {tag.group(1)}; CloudFormation's short forms are "
                             "!Ref, !GetAtt, !Sub, !Join, !If, !Select, !Split, !FindInMap, !Equals, !Not, !And, !Or, "
                             "!Base64, !Condition, !ImportValue")
    context = getattr(exc, "context", None)
    detail = f"{problem} ({context})" if context and context != problem else problem
    return TemplateError(f"{where}: YAML syntax error: {detail}; fix the indentation or quoting at that line")


def samtranslator_causes(exc: Exception) -> str:
    """samtranslator's InvalidDocumentException (or any of its exceptions) as one line: `cause; cause`."""
    causes = getattr(exc, "causes", None) or [exc]
    return "; ".join(" ".join(str(getattr(cause, "message", cause)).split()) for cause in causes)


def samtranslator_error(path: Path | str, exc: Exception) -> TemplateError:
    """The TemplateError for a template samtranslator refused: `file: SAM cannot translate the template: …`."""
    return TemplateError(f"{path}: SAM cannot translate the template: {samtranslator_causes(exc)}")


def check_sections(path: Path, data: Mapping[str, Any]) -> None:
    """The sections the loader walks must be mappings of mappings (before Globals are merged into resources)."""
    for section in ("Parameters", "Resources", "Globals", "Conditions", "Outputs", "Mappings"):
        value = data.get(section)
        if value is not None and not isinstance(value, dict):
            raise TemplateError(f"{path}: {section} must be a mapping of names to definitions")
    for section, what in (("Parameters", "parameter"), ("Resources", "resource"), ("Globals", "Globals section")):
        for name, value in (data.get(section) or {}).items():
            if not isinstance(value, dict) and not (section == "Globals" and value is None):
                raise TemplateError(f"{path}: {what} {name} must be a mapping (check its indentation)")
            props = value.get("Properties") if section == "Resources" and value is not None else None
            if props is not None and not isinstance(props, dict):
                raise TemplateError(f"{path}: resource {name}: Properties must be a mapping (check its indentation)")


def check_template(path: Path, resources: Mapping[str, Any], parameters: Mapping[str, Any],
                   conditions: Mapping[str, Any], outputs: Mapping[str, Any], sam: bool) -> None:
    """Raise TemplateError for the first problem found (and how many more there are)."""
    problems = list(_problems(path, resources, parameters, conditions, outputs, sam))
    if problems:
        more = f" (and {len(problems) - 1} more problem{'s' * (len(problems) > 2)})" if len(problems) > 1 else ""
        raise TemplateError(f"{path}: {problems[0]}{more}")


def _problems(path: Path, resources: Mapping[str, Any], parameters: Mapping[str, Any],
              conditions: Mapping[str, Any], outputs: Mapping[str, Any], sam: bool) -> Iterator[str]:
    names = _Names(resources, parameters, conditions, sam)
    for logical_id, resource in resources.items():
        yield from _type_problems(logical_id, resource.get("Type"))
        props = resource.get("Properties")
        where = f"resource {logical_id}"
        yield from names.problems(where, "Properties", props or {})
        yield from names.condition_problems(where, "Condition", resource.get("Condition"))
        depends = resource.get("DependsOn")
        for target in [depends] if isinstance(depends, str) else depends or []:
            if target not in resources:
                yield f"{where}: DependsOn {target!r} names no resource of this template{names.hint(target)}"
        if resource.get("Type") in _FUNCTION_TYPES:
            yield from _code_problems(path.parent, logical_id, resource["Type"], props or {})
    for name, value in conditions.items():
        yield from names.problems(f"condition {name}", "", value)
    for name, value in outputs.items():
        yield from names.problems(f"output {name}", "", value)
        if isinstance(value, dict):
            yield from names.condition_problems(f"output {name}", "Condition", value.get("Condition"))


def _type_problems(logical_id: str, rtype: Any) -> Iterator[str]:
    if not isinstance(rtype, str) or not rtype:
        yield f"resource {logical_id} has no Type; add one, e.g. Type: AWS::Serverless::Function"
        return
    if rtype.startswith("Custom::") or rtype == "AWS::CloudFormation::CustomResource":
        return
    known = known_resource_types()
    if rtype in known:
        return
    if rtype.startswith(("AWS::", "Alexa::")) or not _TYPE_SHAPE.match(rtype):
        close = difflib.get_close_matches(rtype, known, n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}?" if close else "use a CloudFormation or SAM type name"
        yield f"resource {logical_id}: unknown resource type {rtype!r}; {hint}"
    # Anything else shaped Org::Service::Resource is a registry type: not emulated, warned about later.


class _Names:
    """What Ref, GetAtt, Sub and conditions may name in this template."""

    def __init__(self, resources: Mapping[str, Any], parameters: Mapping[str, Any],
                 conditions: Mapping[str, Any], sam: bool) -> None:
        self.resources = set(resources)
        self.parameters = set(parameters)
        self.conditions = set(conditions)
        self.prefixes = tuple(self.resources | set(_SAM_IMPLICIT)) if sam else ()

    def hint(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.resources | self.parameters, n=1, cutoff=0.6)
        return f" (did you mean {close[0]}?)" if close else ""

    def _is_resource(self, name: str) -> bool:
        if name in self.resources:
            return True
        # SAM generates `<Id>Role`, `<Id>Alias<Name>`, `<Id>.Version`, `ServerlessRestApiProdStage`, ...
        return any(name.startswith(p) and (name[len(p):][:1].isupper() or name[len(p):][:1] in (".", ""))
                   for p in self.prefixes)

    def problems(self, where: str, key: str, value: Any) -> Iterator[str]:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from self.problems(where, f"{key}[{index}]", item)
            return
        if not isinstance(value, dict):
            return
        if len(value) == 1:
            (fn, arg), = value.items()
            problem = self._intrinsic_problem(fn, arg)
            if problem:
                yield f"{where}, {key or 'value'}: {problem}"
                return
        for child, item in value.items():
            yield from self.problems(where, f"{key}.{child}" if key else str(child), item)

    def condition_problems(self, where: str, key: str, name: Any) -> Iterator[str]:
        if name is not None and (not isinstance(name, str) or name not in self.conditions):
            yield f"{where}, {key}: condition {name!r} is not defined under Conditions; define it or correct the name"

    def _intrinsic_problem(self, fn: str, arg: Any) -> str | None:
        if fn == "Ref" and isinstance(arg, str):
            if arg in PSEUDO_PARAMETERS or arg in self.parameters or self._is_resource(arg):
                return None
            return f"!Ref {arg} names no parameter or resource of this template{self.hint(arg)}; define it or " \
                   "correct the name"
        if fn == "Fn::GetAtt":
            target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg else None
            shown = arg if isinstance(arg, str) else ".".join(map(str, arg)) if isinstance(arg, list) else arg
            if not isinstance(target, str) or self._is_resource(target):
                return None
            return f"!GetAtt {shown} names no resource of this template{self.hint(target)}; define {target} or " \
                   "correct the name"
        if fn == "Fn::Sub":
            text, variables = (arg[0], arg[1] if len(arg) > 1 else {}) if isinstance(arg, list) and arg else (arg, {})
            if not isinstance(text, str):
                return None
            for name in _SUB_VARIABLE.findall(text):
                if name.startswith("!") or name in (variables or {}):
                    continue
                target = name if name.startswith("AWS::") else name.split(".", 1)[0]
                if target in PSEUDO_PARAMETERS or target in self.parameters or self._is_resource(target):
                    continue
                return f"!Sub ${{{name}}} names no parameter or resource of this template{self.hint(target)}; " \
                       "define it, correct the name or give it in the !Sub variables"
        if fn in ("Fn::If",) and isinstance(arg, list) and arg and isinstance(arg[0], str) \
                and arg[0] not in self.conditions:
            return f"!If {arg[0]} names no condition under Conditions; define it or correct the name"
        if fn == "Condition" and isinstance(arg, str) and arg not in self.conditions:
            return f"!Condition {arg} names no condition under Conditions; define it or correct the name"
        return None


def _code_problems(base_dir: Path, logical_id: str, rtype: str, props: Mapping[str, Any]) -> Iterator[str]:
    """A python function's CodeUri must be a directory and its Handler a module in it (or in a layer)."""
    if props.get("PackageType") == "Image" or "InlineCode" in props:
        return
    runtime = props.get("Runtime", "python")
    if not isinstance(runtime, str) or not runtime.startswith("python"):
        return
    code = props.get("CodeUri", ".") if rtype == _FUNCTION_TYPES[0] else props.get("Code")
    if not isinstance(code, str) or code.startswith("s3://"):
        return  # an S3 location or an intrinsic: the local cloud warns when it cannot run it
    code_dir = (base_dir / code).resolve()
    where = f"function {logical_id}"
    if not code_dir.is_dir():
        yield f"{where}: CodeUri {code!r} is no directory ({code_dir} does not exist); point CodeUri at the " \
              "function's code, relative to the template"
        return
    handler = props.get("Handler")
    if handler is None:
        yield f"{where} has no Handler; add Handler: <module>.<function> (e.g. app.lambda_handler)"
        return
    if not isinstance(handler, str):
        return
    module, dot, function = handler.rpartition(".")
    if not dot or not module or not function:
        yield f"{where}: Handler {handler!r} must be <module>.<function>, e.g. app.lambda_handler"
        return
    relative = module.replace(".", "/")
    candidates = (code_dir / f"{relative}.py", code_dir / relative / "__init__.py", code_dir / f"{relative}.pyc")
    if any(candidate.is_file() for candidate in candidates) or props.get("Layers"):
        return  # with layers, the module may live in one of them (/opt/python)
    yield f"{where}: Handler {handler!r} needs {relative}.py in {code_dir}, which has no such file; fix Handler " \
          "or CodeUri"
