"""Reading upstream's getting-started CloudFormation template, the definition of each release's IAM and interruption handling.

Upstream publishes one template per release; its managed policies, node role policies and
EventBridge rules are what the controller of that release expects to find. The template is read
as data, so a new release brings its own template and no new code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Sub:
    """`!Sub "text with ${Placeholders}"`: substituted later, when the values are known."""

    template: str


@dataclass(frozen=True)
class GetAtt:
    """`!GetAtt Resource.Attribute`, written back as the `${Resource.Attribute}` placeholder `!Sub` uses."""

    name: str


class _TemplateLoader(_Loader):  # type: ignore[misc,valid-type]
    """A safe loader that knows the three intrinsic functions these templates use."""


_TemplateLoader.add_constructor("!Sub", lambda loader, node: Sub(loader.construct_scalar(node)))
_TemplateLoader.add_constructor("!GetAtt", lambda loader, node: GetAtt(loader.construct_scalar(node)))
_TemplateLoader.add_constructor("!Ref", lambda loader, node: GetAtt(loader.construct_scalar(node)))


@dataclass(frozen=True)
class Template:
    """The parts of a release's template this app builds from, with `${...}` placeholders kept."""

    managed_policies: dict[str, dict[str, Any]]  # logical id -> policy document
    node_role_policy_arns: tuple[str, ...]  # e.g. "arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy"
    interruption_rules: dict[str, dict[str, Any]]  # logical id -> event pattern


def _text(value: object) -> str:
    return value.template if isinstance(value, Sub) else str(value)


@cache
def load_template(path: Path) -> Template:
    resources: dict[str, dict[str, Any]] = yaml.load(path.read_text(), Loader=_TemplateLoader)["Resources"]  # noqa: S506

    def of_type(kind: str) -> dict[str, dict[str, Any]]:
        return {name: r["Properties"] for name, r in resources.items() if r["Type"] == kind}

    policies = {}
    for name, properties in of_type("AWS::IAM::ManagedPolicy").items():
        document = properties["PolicyDocument"]
        policies[name] = json.loads(_text(document)) if isinstance(document, Sub) else document
    (node_role,) = of_type("AWS::IAM::Role").values()
    return Template(
        managed_policies=policies,
        node_role_policy_arns=tuple(_text(arn) for arn in node_role["ManagedPolicyArns"]),
        interruption_rules={name: properties["EventPattern"] for name, properties in of_type("AWS::Events::Rule").items()},
    )


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9:.]+)\}")


def substitute(value: Any, placeholders: dict[str, str]) -> Any:
    """Fill `${Name}` placeholders in every key and string of a document, in one pass.

    One pass, so a value that itself holds `${...}` (a Terraform reference) is never read as a
    placeholder; a placeholder without a value raises KeyError, so a new one cannot slip through.
    """
    if isinstance(value, dict):
        return {substitute(k, placeholders): substitute(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(item, placeholders) for item in value]
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda match: placeholders[match.group(1)], value)
    return value
