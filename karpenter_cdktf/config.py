"""The one typed configuration model, loaded from YAML.

Everything the stacks build is derived from a `KarpenterConfig`. Unknown keys are errors, so a
typo never falls back to a default; cross-field checks catch settings that would synthesize
but could not work on a real cluster.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from karpenter_cdktf import karpenter_api
from karpenter_cdktf.karpenter_api import (
    LABEL_KEY,
    LABEL_VALUE,
    QUANTITY,
    EC2NodeClassSpec,
    NodePoolSpec,
    cpu_cores,
    quantities_as_strings,
)

KARPENTER_VERSION = "0.37.2"
DISCOVERY_TAG = "karpenter.sh/discovery"

# EKS cluster names: 1-100 characters, alphanumerics, hyphens and underscores, starting alphanumeric.
ClusterName = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][A-Za-z0-9\-_]*$", max_length=100)]
# Prefix for every name we create; the strictest consumer is an EventBridge rule name ([.\-_A-Za-z0-9]+).
NamePrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]*$", max_length=64)]
# RFC 1123 label: Kubernetes namespace and service account names.
DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
AwsRegion = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
SubnetId = Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$")]
SecurityGroupId = Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]+$")]
Thumbprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{40}$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$")]



class Strict(BaseModel):
    # strict: YAML gives real types, so `replicas: "2"` or `access_entry: yes-string` is a mistake, not a conversion.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CrossFieldError(ValueError):
    """A problem spanning several keys; it names the key to change, its value and what is allowed."""

    def __init__(self, path: str, value: object, problem: str) -> None:
        super().__init__(f"{path}: got {value!r}: {problem}")


class AwsSettings(Strict):
    """Provider settings. `endpoints` points services at another URL (a local AWS such as moto)."""

    endpoints: dict[Literal["ec2", "eks", "events", "iam", "sqs", "sts"], Url] = {}
    skip_credentials_validation: bool = False
    skip_metadata_api_check: bool = False
    skip_region_validation: bool = False


class OidcSettings(Strict):
    """Thumbprints given here replace the `tls_certificate` lookup of the issuer at plan time."""

    thumbprints: Annotated[list[Thumbprint], Field(max_length=5)] = []


class Resources(Strict):
    requests: dict[Literal["cpu", "memory"], Annotated[str, StringConstraints(pattern=QUANTITY)]] = {}
    limits: dict[Literal["cpu", "memory"], Annotated[str, StringConstraints(pattern=QUANTITY)]] = {}

    _quantities = field_validator("requests", "limits", mode="before")(quantities_as_strings)


class KarpenterSettings(Strict):
    namespace: DnsLabel = "karpenter"
    create_namespace: bool = True
    service_account: DnsLabel = "karpenter"
    replicas: Annotated[int, Field(ge=1, le=10)] = 2
    resources: Resources = Resources(
        requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1", "memory": "1Gi"}
    )
    log_level: Literal["debug", "info", "error"] = "info"
    helm_timeout_seconds: Annotated[int, Field(ge=60, le=3600)] = 600

    @model_validator(mode="after")
    def _kube_system_exists(self) -> KarpenterSettings:
        if self.create_namespace and self.namespace in ("kube-system", "default"):
            raise CrossFieldError(
                "karpenter.create_namespace",
                self.create_namespace,
                f"namespace {self.namespace!r} always exists and must not be created or deleted; allowed: false",
            )
        return self


class InterruptionQueueSettings(Strict):
    message_retention_seconds: Annotated[int, Field(ge=60, le=1_209_600)] = 300


class NodeRoleSettings(Strict):
    """`access_entry: false` for clusters that still map node roles in the aws-auth ConfigMap."""

    access_entry: bool = True


class DiscoverySettings(Strict):
    """What gets the discovery tag. Empty lists mean the cluster's own subnets and cluster security group.

    `manage_tags: false` leaves tagging to the configuration that owns the subnets and security
    groups (e.g. a vpc.tf that already sets the tag): two configurations managing one tag fight.
    """

    manage_tags: bool = True
    subnet_ids: list[SubnetId] = []
    security_group_ids: list[SecurityGroupId] = []


class NodeGroupTaint(Strict):
    key: Annotated[str, StringConstraints(pattern=LABEL_KEY, max_length=63)]
    value: Annotated[str, StringConstraints(pattern=LABEL_VALUE, max_length=63)] = ""
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]

    @property
    def kubernetes_effect(self) -> str:
        return {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}[self.effect]


class SystemNodeGroupSettings(Strict):
    instance_types: Annotated[list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+\.[a-z0-9]+$")]], Field(min_length=1)] = [
        "t3.medium"
    ]
    ami_type: Literal[
        "AL2_x86_64", "AL2_ARM_64", "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"
    ] = "AL2023_x86_64_STANDARD"
    disk_size: Annotated[int, Field(ge=20, le=16384)] = 20
    min_size: Annotated[int, Field(ge=1)] = 1
    desired_size: Annotated[int, Field(ge=1)] = 1
    max_size: Annotated[int, Field(ge=1)] = 2
    subnet_ids: list[SubnetId] = []
    labels: dict[Annotated[str, StringConstraints(pattern=LABEL_KEY)], Annotated[str, StringConstraints(pattern=LABEL_VALUE)]] = {
        "role": "system"
    }
    taints: list[NodeGroupTaint] = [NodeGroupTaint(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")]

    @model_validator(mode="after")
    def _sizes(self) -> SystemNodeGroupSettings:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"sizes must satisfy min_size <= desired_size <= max_size, got {self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        if not self.labels:
            raise ValueError("labels: at least one label is needed to pin the Karpenter controller to this node group")
        return self


# Terraform state backends, one state per stack. Stack names carry the environment.
RelativeDir = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/?$", max_length=200)]
KeyPrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", max_length=200)]
Address = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[\"[^\"]+\"\])?$")]
RuleName = Annotated[str, StringConstraints(pattern=r"^[\.\-_A-Za-z0-9]{1,64}$")]


class LocalBackendSettings(Strict):
    """State files `terraform.<stack>.tfstate` in `directory`, relative to the project (never inside cdktf.out/)."""

    type: Literal["local"] = "local"
    directory: RelativeDir = "."

    @field_validator("directory")
    @classmethod
    def _inside_project(cls, directory: str) -> str:
        if ".." in directory.split("/"):
            raise ValueError("must stay inside the project: a relative path without '..'")
        return directory


class S3BackendSettings(Strict):
    """One object per stack: `s3://<bucket>/<key_prefix>/<stack>.tfstate`, encrypted and locked."""

    type: Literal["s3"]
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    key_prefix: KeyPrefix = "karpenter"
    region: AwsRegion
    encrypt: Literal[True] = True
    kms_key_id: Annotated[str, StringConstraints(min_length=1)] | None = None
    use_lockfile: bool = True
    dynamodb_table: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,255}$")] | None = None

    @model_validator(mode="after")
    def _locked(self) -> S3BackendSettings:
        if not self.use_lockfile and self.dynamodb_table is None:
            raise CrossFieldError(
                "backend.use_lockfile",
                self.use_lockfile,
                "state must be locked; allowed: true (S3-native locking, Terraform >= 1.10), or set backend.dynamodb_table",
            )
        return self


class CloudBackendSettings(Strict):
    """HCP Terraform / Terraform Enterprise: one named workspace per stack, `<workspace_prefix><stack>`.

    Named, because cdktf reads another stack's outputs through `terraform_remote_state`, which
    needs a workspace name (tag-selected workspaces cannot be referenced).
    """

    type: Literal["cloud"]
    organization: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]
    hostname: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+$")] = "app.terraform.io"
    workspace_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]*$", max_length=60)] = "karpenter-"
    project: Annotated[str, StringConstraints(min_length=1)] | None = None


class NameOverrides(Strict):
    """Physical names to keep when adopting resources an earlier configuration created (renaming replaces them)."""

    system_node_group: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,62}$")] | None = None
    system_node_role: Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{1,64}$")] | None = None
    interruption_rules: dict[Literal["spot", "rebalance", "state_change", "health_event"], RuleName] = {}


class AdoptionSettings(Strict):
    """Taking over an existing state (e.g. one karpenter.tf applied) without replacing what it created.

    `moved`: address in the existing state -> address in the infra stack (a `moved` block each).
    `imports`: address in the infra stack -> ID of an existing resource not yet in any state (an `import` block each).
    """

    moved: dict[Address, Address] = {}
    imports: dict[Address, Annotated[str, StringConstraints(min_length=1)]] = {}


class NodeClass(Strict):
    name: DnsLabel
    spec: EC2NodeClassSpec


class NodePool(Strict):
    name: DnsLabel
    spec: NodePoolSpec


class KarpenterConfig(Strict):
    cluster_name: ClusterName
    region: AwsRegion
    environment: DnsLabel | None = None
    name_prefix: NamePrefix | None = None
    names: NameOverrides = NameOverrides()
    backend: Annotated[LocalBackendSettings | S3BackendSettings | CloudBackendSettings, Field(discriminator="type")] = (
        LocalBackendSettings()
    )
    adoption: AdoptionSettings = AdoptionSettings()
    tags: dict[Annotated[str, StringConstraints(min_length=1, max_length=128)], Annotated[str, StringConstraints(max_length=256)]] = {}
    aws: AwsSettings = AwsSettings()
    oidc: OidcSettings = OidcSettings()
    karpenter: KarpenterSettings = KarpenterSettings()
    interruption_queue: InterruptionQueueSettings = InterruptionQueueSettings()
    node_role: NodeRoleSettings = NodeRoleSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    system_node_group: SystemNodeGroupSettings = SystemNodeGroupSettings()
    node_classes: Annotated[list[NodeClass], Field(min_length=1)]
    node_pools: Annotated[list[NodePool], Field(min_length=1)]

    @property
    def prefix(self) -> str:
        return self.name_prefix or self.cluster_name

    @property
    def resource_names(self) -> ResourceNames:
        return ResourceNames(self.prefix, self.names)

    def stack_name(self, base: str) -> str:
        """`infra`, or `<environment>-infra`: two environments never share a stack, a state or a workspace."""
        return f"{self.environment}-{base}" if self.environment else base

    @model_validator(mode="after")
    def _name_lengths(self) -> KarpenterConfig:
        field = "name_prefix" if self.name_prefix else "cluster_name"
        for what, (suffix, limit) in NAME_LIMITS.items():
            if len(self.prefix) + len(suffix) > limit:
                raise CrossFieldError(
                    field,
                    self.prefix,
                    f"too long: the {what} name {self.prefix + suffix!r} has {len(self.prefix) + len(suffix)} "
                    f"characters and AWS allows {limit}; allowed: a name_prefix of at most {limit - len(suffix)} characters",
                )
        return self

    @model_validator(mode="after")
    def _controller_fits_system_nodes(self) -> KarpenterConfig:
        # The chart requires hostname anti-affinity between controller pods (trap 3).
        if self.karpenter.replicas > self.system_node_group.min_size:
            raise CrossFieldError(
                "karpenter.replicas",
                self.karpenter.replicas,
                f"system_node_group.min_size is {self.system_node_group.min_size} and the chart's required hostname "
                "anti-affinity leaves each extra replica Pending, so the Helm release times out; "
                "allowed: replicas <= system_node_group.min_size",
            )
        return self

    @model_validator(mode="after")
    def _node_classes_fit_infra(self) -> KarpenterConfig:
        _require_unique_names("node_classes", self.node_classes)
        for index, node_class in enumerate(self.node_classes):
            where = f"node_classes[{index}].spec"
            role = node_class.spec.role
            if role is not None and role != self.resource_names.node_role:
                raise CrossFieldError(
                    f"{where}.role",
                    role,
                    "the controller policy may only pass the infra stack's node role to EC2; "
                    f"allowed: {self.resource_names.node_role!r}, or omit role to get it",
                )
            for kind, terms in (
                ("subnetSelectorTerms", node_class.spec.subnetSelectorTerms),
                ("securityGroupSelectorTerms", node_class.spec.securityGroupSelectorTerms),
            ):
                for term_index, term in enumerate(terms):
                    value = (term.tags or {}).get(DISCOVERY_TAG)
                    if value is not None and value != self.cluster_name:
                        raise CrossFieldError(
                            f"{where}.{kind}[{term_index}].tags['karpenter.sh/discovery']",
                            value,
                            f"the infra stack tags subnets and security groups with the cluster name; allowed: {self.cluster_name!r}",
                        )
        return self

    @model_validator(mode="after")
    def _node_pools_reference_classes(self) -> KarpenterConfig:
        _require_unique_names("node_pools", self.node_pools)
        classes = {c.name for c in self.node_classes}
        for index, pool in enumerate(self.node_pools):
            ref = pool.spec.template.spec.nodeClassRef.name
            if ref not in classes:
                raise CrossFieldError(
                    f"node_pools[{index}].spec.template.spec.nodeClassRef.name",
                    ref,
                    f"no node class has that name; allowed: {sorted(classes)}",
                )
        return self

    def warnings(self) -> list[str]:
        """Legal settings that rarely mean what they say; printed, not fatal."""
        found = []
        for index, pool in enumerate(self.node_pools):
            cpu = (pool.spec.limits or {}).get("cpu")
            if cpu is not None and cpu.endswith("m") and cpu_cores(cpu) < 4:
                found.append(
                    f"node_pools[{index}].spec.limits.cpu is {cpu!r}: that is {cpu_cores(cpu):g} vCPU for the whole pool"
                )
        return found


def _require_unique_names(key: str, items: list[NodeClass] | list[NodePool]) -> None:
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CrossFieldError(f"{key}[*].name", duplicates, "names must be unique")


class ResourceNames:
    """The AWS names this app creates: derived from one prefix (the cluster name by default), unless overridden."""

    def __init__(self, prefix: str, overrides: NameOverrides) -> None:
        self.controller_role = f"{prefix}-karpenter-controller"
        self.controller_policy = f"{prefix}-karpenter-controller"
        self.node_role = f"{prefix}-karpenter-node"
        self.system_node_role = overrides.system_node_role or f"{prefix}-system-node"
        self.system_node_group = overrides.system_node_group or f"{prefix}-system"
        self.interruption_queue = f"{prefix}-karpenter-interruption"
        self.oidc_provider = f"{prefix}-eks-oidc"
        self._rule_overrides = overrides.interruption_rules

    def interruption_rule(self, kind: str) -> str:
        """`kind` is a key of INTERRUPTION_RULES (`state_change`); names use hyphens (`...-state-change`)."""
        return self._rule_overrides.get(kind) or f"{self.interruption_queue}-{kind.replace('_', '-')}"


# AWS's length limits on the names derived from the prefix; the suffixes are ResourceNames' own.
_SUFFIXES = ResourceNames("", NameOverrides())
NAME_LIMITS = {
    "controller role": (_SUFFIXES.controller_role, 64),
    "node role": (_SUFFIXES.node_role, 64),
    "system node role": (_SUFFIXES.system_node_role, 64),
    "interruption queue": (_SUFFIXES.interruption_queue, 80),
    "interruption rule": (_SUFFIXES.interruption_rule("health_event"), 64),  # the longest of the four
    "system node group": (_SUFFIXES.system_node_group, 63),
}


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""


# How the file names a place: `node_pools[0].spec.limits['cpu']` (keys of free-form maps in brackets).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# pydantic names its internal union/constraint steps in `loc`; they are not config keys.
_INTERNAL_LOC = re.compile(r"^(function-|constrained-|union\[|literal\[|str$|int$|bool$|list\[|dict\[|nullable\[)")

# What a pattern allows, in words; a pattern without an entry is shown as it is.
_PATTERN_HINTS = {
    r"^[0-9A-Za-z][A-Za-z0-9\-_]*$": "letters, digits, '-' and '_', starting with a letter or digit",
    r"^[A-Za-z0-9][A-Za-z0-9\-_]*$": "letters, digits, '-' and '_', starting with a letter or digit",
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit",
    r"^[a-z]{2}(-[a-z]+)+-[0-9]+$": "an AWS region such as us-east-1",
    r"^subnet-[0-9a-f]+$": "a subnet ID such as subnet-0123456789abcdef0",
    r"^sg-[0-9a-f]+$": "a security group ID such as sg-0123456789abcdef0",
    r"^[0-9a-fA-F]{40}$": "a SHA-1 thumbprint of 40 hexadecimal digits",
    r"^https?://[^\s/$.?#][^\s]*$": "an http:// or https:// URL",
    r"^[a-z0-9-]+\.[a-z0-9]+$": "an EC2 instance type written family.size, such as t3.medium",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
    r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[\"[^\"]+\"\])?$": "a Terraform resource address such as aws_iam_role.karpenter_node",
    karpenter_api.QUANTITY: "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi",
    karpenter_api.DURATION: "a duration such as 30s, 15m, 1h30m or 720h (no days: 30d is 720h), or Never",
    karpenter_api.BUDGET_NODES: "a node count such as 5, or a percentage from 0% to 100%",
    karpenter_api.BUDGET_SCHEDULE: "a cron schedule of five fields such as '0 9 * * 1-5', or a macro such as @daily",
    karpenter_api.BUDGET_DURATION: "hours and minutes such as 8h, 30m or 1h30m",
    karpenter_api.LABEL_KEY: "a Kubernetes label key: an optional DNS-subdomain prefix and '/', then letters, digits, "
    "'-', '_' and '.', starting and ending with a letter or digit",
    karpenter_api.LABEL_VALUE: "a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending "
    "with a letter or digit, or empty",
    karpenter_api.VOLUME_SIZE: "a size with a unit such as 20Gi, 100G or 1Ti (1Gi to 64T)",
}


def _strip(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` -> `X`; other unions stay."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _union_members(annotation: Any) -> list[type[BaseModel]]:
    if get_origin(annotation) not in (Union, UnionType):
        return []
    return [m for m in map(_strip, get_args(annotation)) if isinstance(m, type) and issubclass(m, BaseModel)]


def _tags(member: type[BaseModel], discriminator: str | None = None) -> tuple[object, ...]:
    """The literal values a union member can be selected by (only its `discriminator` field's, if named)."""
    return tuple(
        value
        for name, field in member.model_fields.items()
        if discriminator in (None, name) and get_origin(_strip(field.annotation)) is Literal
        for value in get_args(_strip(field.annotation))
    )


def _walk(loc: tuple[str | int, ...]) -> tuple[str, type[BaseModel] | None, bool, Any]:
    """Follow pydantic's `loc` through the config model: (path as the file spells it, the model whose
    key the last step is, whether the error is about a map key rather than its value, the type there)."""
    annotation: Any = KarpenterConfig
    path, parent, is_key = "", None, False
    for part in loc:
        annotation = _strip(annotation)
        if part == "[key]":
            is_key = True
            continue
        if isinstance(part, str) and _INTERNAL_LOC.match(part):
            continue
        member = next((m for m in _union_members(annotation) if part in _tags(m)), None)
        if member is not None:  # a discriminated union's tag: not a key of the file
            annotation = member
            continue
        origin, args = get_origin(annotation), get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            parent = annotation
            path += f".{part}" if path else part
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field else None
            continue
        parent = None
        if isinstance(part, int):
            path += f"[{part}]"
            annotation = args[0] if origin in (list, tuple) and args else None
        elif origin is dict or not _IDENTIFIER.fullmatch(part):
            path += f"[{part!r}]"
            annotation = args[1] if origin is dict and len(args) == 2 else None
        else:
            path += f".{part}" if path else part
            annotation = None
    return path or "(top level)", parent, is_key, _strip(annotation)


def _short(value: object, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quoted(values: Any) -> str:
    items = [repr(v) for v in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _problem(item: Any) -> str:
    """One line: the path, the bad value, and what is allowed there."""
    path, parent, is_key, annotation = _walk(item["loc"])
    kind, ctx, value = item["type"], item.get("ctx") or {}, item["input"]
    message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if isinstance(ctx.get("error"), CrossFieldError):
        return message
    if kind == "extra_forbidden":
        key = item["loc"][-1]
        allowed = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"{path}: unknown key {key!r}{hint}{listed}"
    if kind == "missing":
        return f"{path}: required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        tags = [t for m in _union_members(annotation) for t in _tags(m, discriminator)]
        allowed = _quoted(tags) if tags else ctx.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"{path}.{discriminator}: required key is missing; allowed: {allowed}"
        return f"{path}.{discriminator}: got {ctx.get('tag')!r}: allowed: {allowed}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_HINTS:
        message = f"expected {_PATTERN_HINTS[ctx['pattern']]}"
    if is_key:
        return f"{path}: got key {_short(value)}: {message}"
    if kind in ("value_error", "assertion_error") and isinstance(value, dict):
        return f"{path}: {message}"  # a check across the keys of this mapping; its message names them
    return f"{path}: got {_short(value)}: {message}"


def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration ({error.error_count()} problem{'s' if error.error_count() != 1 else ''})"]
    lines += [f"  {_problem(item)}" for item in error.errors(include_url=False)]
    return "\n".join(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a repeated key is a typo-like mistake, so it is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark.line)
            except TypeError:  # unhashable key: SafeLoader reports it
                continue
            if first != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"found duplicate key {key!r} (first at line {first + 1}); each key may appear only once in a mapping",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(path: Path, text: str, exc: yaml.YAMLError) -> str:
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"{path}: not valid YAML: {exc}"
    mark, lines = exc.problem_mark, text.splitlines()
    message = f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {exc.problem}"
    shown = exc.context_mark or mark
    if exc.context:
        where = f" at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    if "\\t" in (exc.problem or ""):
        message += "; indent with spaces, YAML does not allow tabs"
    if shown.line < len(lines):
        message += f"; line {shown.line + 1} is {lines[shown.line]!r}"
    return message


def load_config(path: str | Path) -> KarpenterConfig:
    """Read and validate a YAML config file; every failure becomes a ConfigError naming the problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; expected a YAML file such as examples/aws-2026-eks.yaml") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; expected a YAML file such as examples/aws-2026-eks.yaml") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read config file: permission denied; make it readable for this user") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}; save the file as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, text, exc)) from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty; the top level must be a mapping of keys to values (see examples/aws-2026-eks.yaml)")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys to values, got a {type(data).__name__}: {_short(data)}"
        )
    try:
        return KarpenterConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from None
