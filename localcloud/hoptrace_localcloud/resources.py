"""Orders a template's resources by dependency, creates them through the provisioners and keeps their local
names, ARNs and URLs so intrinsics (and tests, through `LocalCloud.resource`) can find them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostics
from .intrinsics import IntrinsicError, Scope, references, resolve
from .template import Template


@dataclass
class ResourceInfo:
    """A created (or locally emulated) resource: what `Ref` returns and its `GetAtt` attributes."""

    logical_id: str
    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str | None:
        return self.attributes.get("Arn") or self.attributes.get("TopicArn")

    @property
    def name(self) -> str | None:
        for key in ("QueueName", "TopicName", "Name", "TableName", "BucketName", "FunctionName"):
            if key in self.attributes:
                return self.attributes[key]
        return self.ref if isinstance(self.ref, str) else None

    @property
    def url(self) -> str | None:
        return self.attributes.get("QueueUrl")


def build_scope(template: Template, region: str, account_id: str, stack_name: str) -> Scope:
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": "",
    }
    return Scope(parameters=dict(template.parameters), pseudo=pseudo, conditions=template.conditions)


def creation_order(template: Template, first: set[str]) -> list[str]:
    """Resources in an order where each comes after what it references; `first` are already known."""
    pending = {lid: references(res.get("Properties")) & set(template.resources) for lid, res in
               template.resources.items() if lid not in first}
    done = set(first)
    order: list[str] = []
    while pending:
        ready = [lid for lid, deps in pending.items() if deps <= done | {lid}]
        if not ready:  # a cycle: fall back to template order, creators resolve what they can
            ready = list(pending)
        for lid in ready:
            order.append(lid)
            done.add(lid)
            del pending[lid]
    return order


def included(template: Template, resource: dict[str, Any], scope: Scope) -> bool:
    """False for resources whose Condition is false, as CloudFormation would not create them."""
    condition = resource.get("Condition")
    return condition is None or scope.condition(condition)


def resolve_properties(logical_id: str, props: dict[str, Any], scope: Scope, diagnostics: Diagnostics,
                       keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Resolve each property on its own, so one unresolvable property costs a warning, not the resource."""
    resolved: dict[str, Any] = {}
    for key, value in props.items():
        if keys is not None and key not in keys:
            continue
        try:
            resolved[key] = resolve(value, scope)
        except (IntrinsicError, KeyError, IndexError, TypeError, ValueError) as exc:
            diagnostics.unsupported(logical_id, key, f"cannot resolve ({exc}); property ignored")
    return resolved
