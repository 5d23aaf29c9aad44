"""One vocabulary between packages: attribute and trigger names the layer writes are read by the
collector, dashboard, alerts and CLI from `hoptrace.semconv`, never typed again as literals."""

from __future__ import annotations

import ast
import importlib
import pathlib

from hoptrace import semconv
from hoptrace.triggers import TRIGGERS

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("collector", "dashboard", "alerts", "cli")
ATTRIBUTES = {value for name, value in vars(semconv).items()
              if name.isupper() and not name.startswith("TRIGGER_") and isinstance(value, str) and "." in value}
TRIGGER_NAMES = {value for name, value in vars(semconv).items() if name.startswith("TRIGGER_")}


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def _trigger_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Literals used as trigger names: compared with or passed as something named `trigger`, keys/members of a
    collection named `*TRIGGERS*`. ("sqs" as an AWS service or a store kind elsewhere is not one.)"""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg is not None and "trigger" in node.arg:
            found += _literals(node.value)
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any("trigger" in ast.unparse(side).lower() for side in sides):
                found += [item for side in sides for item in _literals(side)]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any("TRIGGERS" in ast.unparse(target) for target in targets) and node.value is not None:
                value = node.value
                keys = value.keys if isinstance(value, ast.Dict) else [value]
                found += [item for key in keys if key is not None for item in _literals(key)]
    return found


def _sources() -> list[pathlib.Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "build" not in p.parts)


def test_no_cross_package_attribute_or_trigger_name_is_typed_as_a_literal() -> None:
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        found += [f"{where}:{line}: attribute {value!r}" for line, value in _literals(tree) if value in ATTRIBUTES]
        found += [f"{where}:{line}: trigger {value!r}" for line, value in _trigger_literals(tree)
                  if value in TRIGGER_NAMES]
    assert not found, "use hoptrace.semconv's names instead of literals:\n" + "\n".join(found)


def test_the_scan_finds_a_literal_when_there_is_one() -> None:
    tree = ast.parse('A = "faas.coldstart"\nHTTP_TRIGGERS = {"alb": 1}\nok = span.trigger == "sqs"\n'
                     'SpanRecord(trigger="sns")\n')
    assert [v for _, v in _literals(tree) if v in ATTRIBUTES] == ["faas.coldstart"]
    assert sorted(v for _, v in _trigger_literals(tree) if v in TRIGGER_NAMES) == ["alb", "sns", "sqs"]


def test_the_vocabulary_names_triggers_the_layer_has() -> None:
    """Each trigger name the other packages read is one the layer writes."""
    written = {getattr(importlib.import_module(f"hoptrace.triggers.{m}"), "NAME", None) for m in (*TRIGGERS, "invoke")}
    written |= {semconv.TRIGGER_APIGATEWAY_HTTP, semconv.TRIGGER_FUNCTION_URL, semconv.TRIGGER_ALB,
                semconv.TRIGGER_OTHER}  # written by apigateway_http/alb/… without a NAME constant
    assert written >= TRIGGER_NAMES, TRIGGER_NAMES - written
