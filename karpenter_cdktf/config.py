"""The one typed configuration model, loaded from YAML.

Everything the stacks build is derived from a `KarpenterConfig`. Unknown keys are errors, so a
typo never falls back to a default; cross-field checks catch settings that would synthesize
but could not work on a real cluster.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from karpenter_cdktf.karpenter_api import (
    LABEL_KEY,
    LABEL_VALUE,
    QUANTITY,
    EC2NodeClassSpec,
    NodePoolSpec,
    cpu_cores,
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

# Name suffixes, after karpenter.tf; the limits are AWS's.
NAME_LIMITS = {
    "controller role": ("-karpenter-controller", 64),
    "node role": ("-karpenter-node", 64),
    "system node role": ("-system-node", 64),
    "interruption queue": ("-karpenter-interruption", 80),
    "interruption rule": ("-karpenter-interruption-health-event", 64),  # the longest of the four
    "system node group": ("-system", 63),
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
            raise ValueError(f"namespace {self.namespace!r} always exists: set create_namespace: false")
        return self


class InterruptionQueueSettings(Strict):
    message_retention_seconds: Annotated[int, Field(ge=60, le=1_209_600)] = 300


class NodeRoleSettings(Strict):
    """`access_entry: false` for clusters that still map node roles in the aws-auth ConfigMap."""

    access_entry: bool = True


class DiscoverySettings(Strict):
    """What gets the discovery tag. Empty lists mean the cluster's own subnets and cluster security group."""

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
            raise ValueError(
                "state must be locked: keep use_lockfile: true (S3 native locking, Terraform >= 1.10) or set dynamodb_table"
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
        names = [c.name for c in self.node_classes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise CrossFieldError("node_classes[*].name", duplicates, "names must be unique")
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
        names = [p.name for p in self.node_pools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise CrossFieldError("node_pools[*].name", duplicates, "names must be unique")
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


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""


def _location(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}" if path else part
        else:
            path += f"[{part!r}]"
    return path


# pydantic names its internal union/constraint steps in `loc`; they are not config keys.
_INTERNAL_LOC = re.compile(r"^(function-|constrained-|union\[|literal\[|str$|int$|bool$|list\[|dict\[|nullable\[)")


def format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration ({error.error_count()} problem{'s' if error.error_count() != 1 else ''})"]
    for item in error.errors(include_url=False):
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and _INTERNAL_LOC.match(p)))
        path = _location(loc) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        kind = item["type"]
        if isinstance(item.get("ctx", {}).get("error"), CrossFieldError):
            lines.append(f"  {message}")
        elif kind == "extra_forbidden":
            lines.append(f"  {path}: unknown key (check the spelling; allowed keys are listed in the README)")
        elif kind == "missing":
            lines.append(f"  {path}: required key is missing")
        else:
            lines.append(f"  {path}: got {item['input']!r}: {message}")
    return "\n".join(lines)


def load_config(path: str | Path) -> KarpenterConfig:
    """Read and validate a YAML config file; every failure becomes a ConfigError naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values, got {type(data).__name__}")
    try:
        return KarpenterConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from None
